"""``make bench``: what one authorization costs, warm and cold, against a baseline.

Runs against an in-process emulator with a real tenant admin and real tokens:
- baseline: one bare RS256 verification with PyJWT (the floor any authorizer pays);
- warm path: the full authorizer with keys, records and credentials cached;
- cold path: a new authorizer per call, as after a Lambda cold start: its boto3 clients, one
  batch read (the tenant's and user's records, the deployment row, the gateway settings), a
  JWKS fetch and STS AssumeRole against the emulator over loopback HTTP. Its AWS operations are
  counted too (the pools come from configuration: no settings scan).
Figures are printed, not asserted; the last line puts the three p50s side by side.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import jwt

from chalicelib.tenant_authorizer.factory import build_authorizer
from pipeline.local_cloud.api_gateway.builtin_authorizer import authorizer_environment
from pipeline.local_cloud.provisioning.baseline_bootstrap import LocalUrls, bootstrap
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.invitations import CredentialsFile
from tenant_context.tenancy import Role
from tests.support.counting import CountingKeyClients, OperationLog
from tests.support.gateway_policy import token_event
from tests.support.moto_server import clients_for, running_emulator
from tests.support.world import World, issuer

WARM_CALLS = 5000
COLD_CALLS = 50


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def report(name: str, samples: list[float], baseline_p50: float | None = None) -> None:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    ratio = f"  ({p50 / baseline_p50:.1f}x baseline p50)" if baseline_p50 else ""
    print(f"{name:<34} n={len(ordered):<5} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms{ratio}")


def main() -> None:
    with running_emulator() as url, tempfile.TemporaryDirectory() as state:
        import os

        os.environ.update({Env.AWS_ENDPOINT_URL: url, Env.AWS_DEFAULT_REGION: "us-east-1",
                           Env.AWS_ACCESS_KEY_ID: "local", Env.AWS_SECRET_ACCESS_KEY: "local"})
        credentials = CredentialsFile(Path(state) / "credentials.json")
        baseline = bootstrap(clients_for(url), LocalUrls("http://x/admin", "http://x/pooled"),
                             credentials, "admin@example.com")
        world = World(clients_for(url), baseline.settings, credentials)
        tenant = world.pooled_tenant()
        token = world.id_token(world.tenant_user(tenant, Role.TENANT_ADMIN))
        event = token_event(token, "admin", "GET", f"/tenant/{tenant.tenant_id}")
        config = PlatformConfig.from_environ(authorizer_environment())

        pool = tenant.pool
        key = jwt.PyJWKClient(config.cognito_jwks_url(pool.user_pool_id)).get_signing_key_from_jwt(
            token).key
        verify = timed(lambda: jwt.decode(token, key, algorithms=["RS256"],
                                          audience=pool.app_client_id,
                                          issuer=issuer(pool.user_pool_id)), WARM_CALLS)

        warm_authorizer = build_authorizer(config)
        warm_authorizer.authorize(event)  # fill every cache once
        warm = timed(lambda: warm_authorizer.authorize(event), WARM_CALLS)
        aws_calls, keys = OperationLog(), CountingKeyClients()

        def cold_start() -> None:
            """What ``build_authorizer`` does without clients, with its calls counted."""
            dynamodb = boto3.client("dynamodb", region_name=config.region)
            sts = boto3.client("sts", region_name=config.region)
            aws_calls.watch(dynamodb)
            aws_calls.watch(sts)
            build_authorizer(config, dynamodb=dynamodb, sts=sts,
                             key_client_factory=keys.factory()).authorize(event)

        cold = timed(cold_start, COLD_CALLS)
        calls = aws_calls.take()
        per_call = calls[:len(calls) // COLD_CALLS]

        print("Tenant authorizer, TenantAdmin token on the admin API (loopback emulator)")
        baseline_p50 = statistics.median(verify) * 1000
        report("baseline: PyJWT RS256 verify only", verify)
        report("warm path (all cached)", warm, baseline_p50)
        report("cold path (nothing cached)", cold, baseline_p50)
        print(f"p50s: bare verify {baseline_p50:.3f} ms | warm path "
              f"{statistics.median(warm) * 1000:.3f} ms | cold path "
              f"{statistics.median(cold) * 1000:.3f} ms ({len(per_call)} AWS calls: "
              f"{', '.join(per_call)}; {keys.fetches / COLD_CALLS:g} JWKS fetch)")


if __name__ == "__main__":
    main()

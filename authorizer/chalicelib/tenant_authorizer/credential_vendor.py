"""Scoped credentials: STS AssumeRole with the caller's session policy, cached per
(tenant, role, pooled or silo data) until shortly before they expire, not per token, and
dropped as soon as the tenant is seen deactivated (``forget``): nothing of a deactivated
tenant's stays in the cache for a later reactivation, or a mistake, to hand out.

The data part of the key follows the tenant record's tier: a tenant moved between the pool
and its Platinum silo gets credentials for where its data is now, never its cached ones for
where it was (``tests/authorizer/test_moved_tenants.py``).

The refresh margin (300 s) exceeds API Gateway's authorizer cache TTL (60 s), so credentials
handed out with a cached policy never expire while API Gateway still replays them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tenant_context.platform.session_policies import to_json
from tenant_context.service.context import ScopedCredentials
from tenant_context.tenancy import Role

if TYPE_CHECKING:
    from types_boto3_sts import STSClient

PolicyFor = Callable[[Role, str, bool], dict[str, Any]]


class CredentialVendor:
    def __init__(self, sts: STSClient, role_arn: str, policy_for: PolicyFor, *,
                 clock: Callable[[], float] = time.time, duration_seconds: int = 3600,
                 refresh_margin_seconds: float = 300) -> None:
        self._sts = sts
        self._role_arn = role_arn
        self._policy_for = policy_for
        self._clock = clock
        self._duration = duration_seconds
        self._margin = refresh_margin_seconds
        self._cache: dict[tuple[str, Role, bool], tuple[float, ScopedCredentials]] = {}
        self._lock = threading.Lock()

    def credentials_for(self, tenant_id: str, role: Role, pooled_data: bool) -> ScopedCredentials:
        key = (tenant_id, role, pooled_data)
        with self._lock:  # one AssumeRole per key even when requests arrive together
            cached = self._cache.get(key)
            if cached and cached[0] - self._margin > self._clock():
                return cached[1]
            response = self._sts.assume_role(
                RoleArn=self._role_arn,
                RoleSessionName=f"{role.value}-{tenant_id}"[:64],
                Policy=to_json(self._policy_for(role, tenant_id, pooled_data)),
                DurationSeconds=self._duration,
            )
            raw = response["Credentials"]
            expiration = raw["Expiration"]  # a timezone-aware datetime from botocore
            credentials = ScopedCredentials(
                access_key_id=raw["AccessKeyId"],
                secret_access_key=raw["SecretAccessKey"],
                session_token=raw["SessionToken"],
                expiration=expiration.isoformat(),
            )
            self._cache[key] = (expiration.timestamp(), credentials)
            return credentials

    def forget(self, tenant_id: str) -> None:
        """Drop every cached credential of ``tenant_id`` (its tenant was deactivated)."""
        with self._lock:
            for key in [key for key in self._cache if key[0] == tenant_id]:
                del self._cache[key]

"""Tenant-aware logs, metrics and traces (Powertools for AWS Lambda).

- Logs: every line of a request carries tenant_id, tier, user and role (thread-safe keys, so
  the multithreaded ``chalice local`` never mixes two requests' tenants).
- Metrics (EMF): a tenant id as a dimension explodes CloudWatch cardinality, so per-tenant
  figures go out through ``single_metric`` (one EMF record each), while the shared figure of the
  same event is recorded on low-cardinality dimensions (service, tier).
- Traces: the tenant is an X-Ray annotation, so traces can be filtered by tenant. The Tracer
  exists only where Powertools would trace (``tracing_enabled``): anywhere else Powertools
  disables it, yet it would still import the X-Ray SDK, which off Lambda also builds botocore
  clients for its sampler (~250 ms), a cold-start cost for nothing.
- Only botocore is patched for X-Ray (``TRACED_MODULES``), the one library the services call
  AWS with. Powertools' default patches every library the SDK knows that is installed, which
  imports ``requests`` (and ``sqlite3``) into every cold start just to wrap them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tenant_context.context import TenantContext

DEFAULT_NAMESPACE = "ServerlessSaaS"
TRACED_MODULES = ("botocore",)


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """Powertools' own rule: in a Lambda runtime (which sets ``LAMBDA_TASK_ROOT``), not SAM's
    or Chalice's local emulation, and not turned off by ``POWERTOOLS_TRACE_DISABLED``."""
    disabled = environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true", "yes")
    in_lambda = bool(environ.get("LAMBDA_TASK_ROOT"))
    emulated = bool(environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not emulated and not disabled


@dataclass
class Observability:
    service: str
    namespace: str = DEFAULT_NAMESPACE
    tracing: bool | None = None  # None: decided by ``tracing_enabled`` on the environment
    logger: Logger = field(init=False)
    metrics: Metrics = field(init=False)
    tracer: Tracer | None = field(init=False)

    def __post_init__(self) -> None:
        self.logger = Logger(service=self.service)
        self.metrics = Metrics(namespace=self.namespace, service=self.service)
        if self.tracing is None:
            self.tracing = tracing_enabled(os.environ)
        self.tracer = (Tracer(service=self.service, patch_modules=TRACED_MODULES)
                       if self.tracing else None)

    def bind(self, tenant: TenantContext) -> None:
        """Attach the caller to everything this request logs and traces."""
        tier = tenant.tier.value if tenant.tier else ""
        self.logger.thread_safe_append_keys(tenant_id=tenant.tenant_id, tier=tier,
                                            user=tenant.user_name, role=tenant.role.value)
        if self.tracer:
            self.tracer.put_annotation("tenant_id", tenant.tenant_id)
            self.tracer.put_annotation("tier", tier)

    def unbind(self) -> None:
        self.logger.thread_safe_clear_keys()

    def record(self, tenant: TenantContext, name: str, value: float = 1,
               unit: MetricUnit = MetricUnit.Count) -> None:
        """One business event, measured per tenant and per tier."""
        tier = tenant.tier.value if tenant.tier else "operations"
        dimensions = {"service": self.service, "tier": tier}
        with single_metric(name=name, unit=unit, value=value, namespace=self.namespace,
                           default_dimensions=dimensions):
            pass
        with single_metric(name=name, unit=unit, value=value, namespace=self.namespace,
                           default_dimensions={"service": self.service}) as metric:
            metric.add_dimension(name="tenant_id", value=tenant.tenant_id)

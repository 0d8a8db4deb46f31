"""Tenant-aware logs, metrics and traces (Powertools for AWS Lambda).

- Logs: every line of a request carries tenant_id, tier, user and role (thread-safe keys, so
  the multithreaded ``chalice local`` never mixes two requests' tenants).
- Metrics (EMF): one record per business event, on dimensions whose number of values does not
  grow with the number of tenants (service, tier). The tenant id travels in the record as a
  property, never as a dimension: a dimension value is a custom metric of its own (one per
  tenant per metric name, billed monthly: about $4,000 a month at 1,000 tenants and 20 names),
  while a property costs nothing and stays searchable (Logs Insights) and rankable
  (Contributor Insights). No cold-start metric either: Powertools names it by function, and a
  Platinum tenant's functions carry its stack's name, so it would be per tenant too (Lambda's
  own ``Init Duration`` reports cold starts for free).
- Both APIs use one pattern (``observe``): a handled event is one log line and one metric about
  the tenant it concerned (the target of an admin's change, not the admin's own pseudo-tenant).
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

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tenant_context.config import Env, PlatformConfig
from tenant_context.service.context import TenantContext
from tenant_context.tenancy import Tier

DEFAULT_NAMESPACE = "ServerlessSaaS"
TRACED_MODULES = ("botocore",)
TENANT_ID_PROPERTY = "tenant_id"  # in every EMF record; never a dimension
OPERATIONS_TIER = "operations"  # the tier dimension of events about the SaaS provider's staff


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """Powertools' own rule: in a Lambda runtime (which sets ``LAMBDA_TASK_ROOT``), not SAM's
    or Chalice's local emulation, and not turned off by ``POWERTOOLS_TRACE_DISABLED``."""
    config = PlatformConfig.from_environ(environ)
    in_lambda = bool(config.optional(Env.LAMBDA_TASK_ROOT))
    emulated = bool(config.optional(Env.AWS_SAM_LOCAL) or config.optional(Env.AWS_CHALICE_CLI_MODE))
    return in_lambda and not emulated and not config.flag(Env.POWERTOOLS_TRACE_DISABLED)


@dataclass
class Observability:
    service: str
    namespace: str = DEFAULT_NAMESPACE
    tracing: bool | None = None  # None: decided by ``tracing_enabled`` on the environment
    logger: Logger = field(init=False)
    tracer: Tracer | None = field(init=False)

    def __post_init__(self) -> None:
        self.logger = Logger(service=self.service)
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

    def observe(self, event: str, message: str, tenant_id: str, tier: Tier | None, *,
                count: int | None = None) -> None:
        """A handled event: one log line and one metric about the tenant it concerned.

        The line keeps the caller's keys (bound for the whole request) and adds the target's
        (``target_tenant_id``, ``target_tier``), so it says who did what to whom; ``count`` is
        how many items a listing or a bulk change covered (the metric's value)."""
        self.logger.info(message, extra={
            "event": event, "target_tenant_id": tenant_id, "target_tier": _tier_name(tier),
            **({"count": count} if count is not None else {})})
        self.record(event, tenant_id, tier, 1 if count is None else count)

    def record(self, event: str, tenant_id: str, tier: Tier | None, value: float = 1,
               unit: MetricUnit = MetricUnit.Count) -> None:
        """One EMF record: dimensions service and tier, the tenant id as a property."""
        with single_metric(name=event, unit=unit, value=value, namespace=self.namespace,
                           default_dimensions={"service": self.service,
                                               "tier": _tier_name(tier)}) as metric:
            metric.add_metadata(key=TENANT_ID_PROPERTY, value=tenant_id)


def _tier_name(tier: Tier | None) -> str:
    return tier.value if tier else OPERATIONS_TIER

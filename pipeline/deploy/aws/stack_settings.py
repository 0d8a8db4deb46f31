"""The operator's choices a run deploys every stack with: the templates' parameters that are
not the platform's to decide (how long logs are kept; whether the pooled stack may set the
region's API Gateway CloudWatch role; the sign-up limits, and whether a billed WAF applies
their rates)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.stacks.logging_template import (
    API_GATEWAY_ROLE,
    DEFAULT_RETENTION_DAYS,
    LOG_RETENTION,
)
from pipeline.stacks.signup_limits import (
    PENDING_PLATINUM_CAP,
    SIGNUP_RATE_PER_ADDRESS,
    SIGNUP_RATE_TOTAL,
    SIGNUP_RATE_WINDOW,
    SIGNUP_WAF,
)
from tenant_context.config import SignupLimits

EXISTING, CREATE = "existing", "create"  # ApiGatewayCloudWatchRole's values


@dataclass(frozen=True)
class StackSettings:
    log_retention_days: int = DEFAULT_RETENTION_DAYS
    api_gateway_logs_role: str = EXISTING
    signup_waf: bool = False
    signup_limits: SignupLimits = field(default_factory=SignupLimits)

    @property
    def creates_api_gateway_role(self) -> bool:
        return self.api_gateway_logs_role == CREATE

    def silo_parameters(self) -> dict[str, str]:
        return {LOG_RETENTION: str(self.log_retention_days)}

    def pooled_parameters(self) -> dict[str, str]:
        limits = self.signup_limits
        return {**self.silo_parameters(), API_GATEWAY_ROLE: self.api_gateway_logs_role,
                SIGNUP_WAF: "enabled" if self.signup_waf else "disabled",
                SIGNUP_RATE_PER_ADDRESS: str(limits.per_address),
                SIGNUP_RATE_TOTAL: str(limits.total),
                SIGNUP_RATE_WINDOW: str(limits.window_seconds),
                PENDING_PLATINUM_CAP: str(limits.pending_platinum_cap)}

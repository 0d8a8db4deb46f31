"""The operator's choices a run deploys every stack with: the templates' parameters that are
not the platform's to decide (how long logs are kept; whether the pooled stack may set the
region's API Gateway CloudWatch role)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.stacks.logging_template import (
    API_GATEWAY_ROLE,
    DEFAULT_RETENTION_DAYS,
    LOG_RETENTION,
)

EXISTING, CREATE = "existing", "create"  # ApiGatewayCloudWatchRole's values


@dataclass(frozen=True)
class StackSettings:
    log_retention_days: int = DEFAULT_RETENTION_DAYS
    api_gateway_logs_role: str = EXISTING

    @property
    def creates_api_gateway_role(self) -> bool:
        return self.api_gateway_logs_role == CREATE

    def silo_parameters(self) -> dict[str, str]:
        return {LOG_RETENTION: str(self.log_retention_days)}

    def pooled_parameters(self) -> dict[str, str]:
        return {**self.silo_parameters(), API_GATEWAY_ROLE: self.api_gateway_logs_role}

"""Everything a registration can create, counted across the emulator: tests that refuse a
registration (limits, caps) assert that these counts did not move."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenant_context.platform.definitions import (
    TENANT_DETAILS_TABLE,
    TENANT_NAMES_TABLE,
    TENANT_STACK_MAPPING_TABLE,
)

if TYPE_CHECKING:
    from tenant_context.platform.aws_clients import AwsClients


def registration_footprint(aws: AwsClients, pooled_pool_id: str) -> dict[str, int]:
    """Pools, the pooled pool's groups and users, API keys, and the control plane's rows."""
    def rows(table: str) -> int:
        return sum(page["Count"] for page in aws.dynamodb.get_paginator("scan").paginate(
            TableName=table, Select="COUNT"))

    return {
        "user pools": sum(len(page["UserPools"]) for page in aws.cognito.get_paginator(
            "list_user_pools").paginate(PaginationConfig={"PageSize": 60})),
        "groups in the pooled pool": sum(len(page["Groups"]) for page in aws.cognito.get_paginator(
            "list_groups").paginate(UserPoolId=pooled_pool_id)),
        "users in the pooled pool": sum(len(page["Users"]) for page in aws.cognito.get_paginator(
            "list_users").paginate(UserPoolId=pooled_pool_id)),
        "api keys": sum(len(page["items"]) for page in aws.apigateway.get_paginator(
            "get_api_keys").paginate()),
        "tenant records": rows(TENANT_DETAILS_TABLE.name),
        "name claims": rows(TENANT_NAMES_TABLE.name),
        "deployment rows": rows(TENANT_STACK_MAPPING_TABLE.name),
    }

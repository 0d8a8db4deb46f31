"""The issue's local acceptance, scripted with the README's commands: on the running platform
``make deploy-pooled``, then ``make onboard-tenant`` of a Basic and a Platinum tenant, and each
tenant admin creates a product through its OWN tenant API URL; the Platinum tenant's
deployment stops with its deactivation (data kept), comes back with its activation, and with
the next start of the platform.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.local_cloud.platform_runner import RunningPlatform, alive, running_platform
from pipeline.local_cloud.processes import free_port
from tenant_context.platform.definitions import data_table, deployment_data_tables
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.readme_commands import call, create_product, make, onboarded, products

pytestmark = pytest.mark.platform
def test_each_tenant_uses_its_own_api_and_platinum_follows_its_tenant(tmp_path: Path) -> None:
    emulator_port, gateway_port = free_port(), free_port()
    with running_platform(tmp_path, emulator_port, gateway_port) as platform:
        deployed = make(tmp_path, "deploy-pooled")
        # Applied again over what `make local` applied: the emulator updates the stack.
        assert re.search(r"stack stack-pooled: (CREATE|UPDATE)_COMPLETE \(tables\)",
                         deployed), deployed
        assert f"pooled tenant API  {platform.pooled_api}" in deployed
        basic = onboarded(tmp_path, "Basic Own Co", "Basic")
        assert basic["tenant API"] == platform.pooled_api
        platinum = onboarded(tmp_path, "Platinum Own Co", "Platinum")
        tenant_id, platinum_api = platinum["tenant id"], platinum["tenant API"]
        assert platinum_api == f"http://127.0.0.1:{gateway_port}/{tenant_id}"
        assert (basic["stack"], platinum["stack"]) == ("stack-pooled", f"stack-{tenant_id}")
        assert platform.tenant_api(tenant_id) == platinum_api

        basic_token = platform.token(basic["tenant admin"], "Basic Own Co")
        platinum_token = platform.token(platinum["tenant admin"], "Platinum Own Co")
        basic_product = create_product(platform.pooled_api, basic_token)
        platinum_product = create_product(platinum_api, platinum_token)
        assert products(platform.pooled_api, basic_token) == [basic_product]
        assert products(platinum_api, platinum_token) == [platinum_product]
        assert call("GET", f"{platform.pooled_api}/products", platinum_token).status_code == 403
        assert call("GET", f"{platinum_api}/products", basic_token).status_code == 403
        assert stored_products(platform, tenant_id) == [platinum_product]  # its own table

        silo_pids = own_pids(platform, tenant_id)
        assert len(silo_pids) == len(TENANT_SERVICES)  # its own instance of each
        admin = platform.token()
        deactivated = call("DELETE", f"{platform.admin_api}/tenant/{tenant_id}", admin)
        assert deactivated.status_code == 200, deactivated.text
        eventually(lambda: not any(alive(pid) for pid in silo_pids) and
                   call("GET", f"{platinum_api}/products", platinum_token).status_code == 404)
        assert own_pids(platform, tenant_id) == []
        assert platform.tenant_api(tenant_id) is None
        assert stored_products(platform, tenant_id) == [platinum_product]  # tables and data
        assert products(platform.pooled_api, basic_token) == [basic_product]  # untouched

        activated = call("PUT", f"{platform.admin_api}/tenant/activation/{tenant_id}", admin)
        assert activated.status_code == 200, activated.text
        eventually(lambda: call("GET", f"{platinum_api}/products",
                                platinum_token).status_code == 200)
        assert products(platinum_api, platinum_token) == [platinum_product]
        assert set(own_pids(platform, tenant_id)).isdisjoint(silo_pids)  # new processes

    with running_platform(tmp_path, emulator_port, gateway_port) as platform:
        assert platform.tenant_api(tenant_id) == platinum_api  # up when the platform is
        platinum_token = platform.token(platinum["tenant admin"], "Platinum Own Co")
        assert products(platinum_api, platinum_token) == [platinum_product]


def stored_products(platform: RunningPlatform, tenant_id: str) -> list[str]:
    """Read straight from the emulator: what the tenant's own tables hold."""
    dynamodb = platform.aws.dynamodb
    stack = platform.aws.cloudformation.describe_stack_resources(
        StackName=f"stack-{tenant_id}")["StackResources"]  # deployed as its stack, as in AWS
    assert {resource["PhysicalResourceId"] for resource in stack} == {
        table.name for table in deployment_data_tables(tenant_id)}
    products = TENANT_SERVICES.serving("product")
    items = dynamodb.scan(TableName=data_table(products, tenant_id).name)["Items"]
    return [item[products.id_attribute]["S"] for item in items]


def own_pids(platform: RunningPlatform, tenant_id: str) -> list[int]:
    return [pid for name, pid in platform.current_state()["pids"].items()
            if name.startswith(f"{tenant_id}/")]


def eventually(condition: Callable[[], bool], timeout: float = 30) -> None:
    """The provisioner acts within about a second of the change it polls for."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.2)

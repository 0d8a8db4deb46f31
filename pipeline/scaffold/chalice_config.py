"""A tenant service's ``.chalice/config.json``, rendered from its registry entry and the
definitions.

Chalice reads stages from JSON, which cannot import the definitions, so every service's file
repeats table names, API ids and variable names. Rendering it from the same sources the
platform uses (``data_table``, ``api_name``, ``Env``) means a new service's file is right by
construction; the scaffold's tests render the registered services' files and compare them with
the committed ones, which keeps this module and those files in step.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.local_cloud.api_gateway.builtin_authorizer import LOCAL_STAGE_AUTHORIZER
from pipeline.local_cloud.chalice_local import LOCAL_STAGE, SILO_STAGE
from pipeline.local_cloud.local_platform import REGION
from pipeline.stacks.safe_release import STAGE as API_GATEWAY_STAGE
from tenant_context.config import Env
from tenant_context.platform.definitions import api_name, data_table
from tenant_context.service.tenant_tables import Isolation
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TenantService, TenantServices

CONFIG_VERSION = "2.0"
EMULATOR_CREDENTIAL = "local"  # the emulator takes any credentials; these reach no account
# ``chalice package`` (stage ``prod``) only: the merge template gives each function its own
# role (``pipeline.stacks.service_template``), so Chalice manages none.
PROD_STAGE: dict[str, Any] = {
    "api_gateway_stage": API_GATEWAY_STAGE,
    "api_gateway_endpoint_type": "REGIONAL",
    "manage_iam_role": False,
    "iam_role_arn": "replaced-by-the-merge-template",
}


def chalice_config(service: TenantService, registry: TenantServices) -> dict[str, Any]:
    """``local`` is the pooled deployment, complete; ``local-silo`` holds only what every
    Platinum tenant's deployment shares: ``chalice local`` lays a stage's variables over the
    environment, so a table name or API id here would hide the one the platform hands each
    tenant."""
    emulator: dict[str, str] = {
        Env.AWS_DEFAULT_REGION: REGION, Env.AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIAL,
        Env.AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIAL,
        Env.TENANT_AUTHORIZER: LOCAL_STAGE_AUTHORIZER}
    tables = [data_table(each, POOLED_DEPLOYMENT)
              for each in (service, *registry.read_by(service))]
    pooled: dict[str, str] = {
        **emulator, Env.LOCAL_GATEWAY_API_ID: api_name(POOLED_DEPLOYMENT, service.name),
        Env.DATA_ISOLATION: Isolation.POOLED.value,
        **{table.env_var: table.name for table in tables}}
    silo: dict[str, str] = {**emulator, Env.DATA_ISOLATION: Isolation.SILO.value}
    return {
        "version": CONFIG_VERSION,
        "app_name": service.app_name,
        "automatic_layer": False,  # the ONE shared layer comes from the merge template
        "stages": {
            "prod": PROD_STAGE,
            LOCAL_STAGE: {"environment_variables": pooled},
            SILO_STAGE: {"environment_variables": silo},
        },
    }


def config_text(service: TenantService, registry: TenantServices) -> str:
    """The file as the committed ones are laid out (two-space indent, a final newline)."""
    return json.dumps(chalice_config(service, registry), indent=2) + "\n"


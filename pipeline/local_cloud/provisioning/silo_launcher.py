"""A Platinum tenant's own deployment on the local platform: its tables and its own instance of
every registered tenant service, the same code as the pooled ones in silo mode.

The tables come from the same definitions CloudFormation renders for the aws target and are
deployed, as the aws target's are, as the tenant's stack (``stack-<tenantId>``) through the
emulator's CloudFormation; deploying is idempotent and never deletes anything (tables are
retained), so a stopped deployment keeps its data and comes back with it.

Each service runs ``chalice local`` with the ``local-silo`` stage (what every silo shares); the
per-tenant values (table names, the API id the authorizer matches against the tenant's
deployment row) come from the process environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.local_cloud import processes
from pipeline.local_cloud.api_gateway.front_door import Upstream
from pipeline.local_cloud.chalice_local import (
    SILO_STAGE,
    RunningService,
    ServiceLaunch,
    start_services,
    tenant_service_app,
)
from pipeline.local_cloud.provisioning.emulated_stack import deploy_tables
from tenant_context.config import Env
from tenant_context.platform.definitions import api_name, deployment_data_tables, service_tables
from tenant_context.platform.deployments import stack_name
from tenant_context.tenant_services import TENANT_SERVICES

if TYPE_CHECKING:
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class SiloDeployment:
    """The processes serving one Platinum tenant's API."""

    tenant_id: str
    services: tuple[RunningService, ...]
    api_ids: frozenset[str]
    upstreams: tuple[Upstream, ...]

    @property
    def pids(self) -> dict[str, int]:
        return {f"{self.tenant_id}/{service.app.directory}": service.process.pid
                for service in self.services}

    def alive(self) -> bool:
        return all(service.process.poll() is None for service in self.services)


class SiloLauncher:
    """Brings one tenant's deployment up, or stops it (tables and data always kept)."""

    def __init__(self, dynamodb: DynamoDBClient, cloudformation: CloudFormationClient,
                 env: Mapping[str, str], log_dir: Path) -> None:
        self._dynamodb = dynamodb
        self._cloudformation = cloudformation
        self._env = dict(env)
        self._log_dir = log_dir

    def start(self, tenant_id: str) -> SiloDeployment:
        deploy_tables(self._cloudformation, self._dynamodb, stack_name(tenant_id),
                      deployment_data_tables(tenant_id))
        api_ids = [api_name(tenant_id, service.name) for service in TENANT_SERVICES]
        running = start_services([  # in the order given
            ServiceLaunch(tenant_service_app(service), self._env | {
                **{table.env_var: table.name for table in service_tables(service, tenant_id)},
                Env.LOCAL_GATEWAY_API_ID: api_id, Env.SILO_TENANT_ID: tenant_id},
                self._log_dir / f"{service.folder}-{tenant_id}.log", SILO_STAGE)
            for service, api_id in zip(TENANT_SERVICES, api_ids, strict=True)])
        return SiloDeployment(
            tenant_id, running, frozenset(api_ids),
            tuple(Upstream(service.app.path_prefixes, service.port, api_id,
                           service.app.document_path)
                  for service, api_id in zip(running, api_ids, strict=True)))

    def stop(self, deployment: SiloDeployment) -> None:
        for service in deployment.services:
            processes.stop(service.process)

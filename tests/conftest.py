"""Session fixtures: one real emulator (moto server on loopback) with the baseline applied, and
one ``make package`` output. The fixtures of ``tests.support.packaged`` (the packaged templates)
and ``tests.support.tenant_api`` (tenants calling the tenant API) serve several folders, so they
are registered here as plugins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

from pipeline.local_cloud.provisioning.baseline_bootstrap import (
    BaselineResult,
    LocalUrls,
    bootstrap,
)
from pipeline.packaging.app_packages import package
from pipeline.project import PROJECT_ROOT
from tenant_context.config import REAL_ACCOUNT_VARIABLES, Env
from tenant_context.platform.invitations import CredentialsFile
from tests.support.chalice_apps import ClientFor, flush_usage, load_app
from tests.support.moto_server import clients_for, running_emulator
from tests.support.signup_settings import MANY_SIGNUPS
from tests.support.world import World

pytest_plugins = ["tests.support.packaged", "tests.support.tenant_api"]


@pytest.fixture(scope="session")
def emulator_url(credentials_file: CredentialsFile) -> Iterator[str]:
    """The emulator, and a process environment pointing every boto3 client at it (and the
    apps' temporary passwords at the session's credentials file)."""
    with running_emulator() as url:
        saved = dict(os.environ)
        for name in REAL_ACCOUNT_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update({Env.AWS_ENDPOINT_URL: url, Env.AWS_DEFAULT_REGION: "us-east-1",
                           Env.AWS_ACCESS_KEY_ID: "local", Env.AWS_SECRET_ACCESS_KEY: "local",
                           Env.AWS_EC2_METADATA_DISABLED: "true",
                           Env.LOCAL_CREDENTIALS_FILE: str(credentials_file.path),
                           **MANY_SIGNUPS})
        try:
            yield url
        finally:
            flush_usage()
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="session")
def packaged_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make package`` into a fresh folder, once per test session (about 10 s): every test that
    needs the templates or the zips reads this folder (the deployer takes it as ``--dist``)."""
    out = tmp_path_factory.mktemp("dist")
    package(out)
    return out


@pytest.fixture(scope="session")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> CredentialsFile:
    return CredentialsFile(Path(tmp_path_factory.mktemp("local")) / "credentials.json")


@pytest.fixture(scope="session")
def baseline(emulator_url: str, credentials_file: CredentialsFile) -> BaselineResult:
    return bootstrap(clients_for(emulator_url),
                     LocalUrls("http://127.0.0.1:1/admin", "http://127.0.0.1:1/pooled"),
                     credentials_file, "admin@example.com")


@pytest.fixture(scope="session")
def world(emulator_url: str, baseline: BaselineResult,
          credentials_file: CredentialsFile) -> World:
    return World(clients_for(emulator_url), baseline.settings, credentials_file)


@pytest.fixture
def client_for(baseline: BaselineResult) -> Iterator[ClientFor]:
    """A chalice.test.Client for an app folder; requests run the real built-in authorizer."""
    clients: list[Client] = []

    def make(directory: str) -> Client:
        client = Client(load_app(directory), stage_name="local",
                        project_dir=str(PROJECT_ROOT / directory))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)

"""TARGET=local goes to the local platform's own commands with the same arguments; deploying
the tenants' stacks is the running platform's own job there."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.deploy.cli import run_local_module
from tests.pipeline.deploy.conftest import Cli


class Modules:
    def __init__(self, code: int) -> None:
        self.code = code
        self.ran: list[tuple[str, list[str]]] = []

    def __call__(self, module: str, args: list[str]) -> int:
        self.ran.append((module, args))
        return self.code


def test_onboarding_locally_runs_the_local_onboarding_with_every_field(cli: Cli) -> None:
    modules = Modules(code=3)

    run = cli(["tenant", "--name", "Acme Widgets", "--email", "owner@acme.example",
               "--tier", "platinum", "--phone", "+1 555 0100", "--address", "1 Main St"],
              run_module=modules)

    assert run.code == 3  # its exit code is the command's
    assert modules.ran == [("pipeline.deploy.local.local_onboarding", [
        "--name", "Acme Widgets", "--email", "owner@acme.example", "--tier", "Platinum",
        "--phone", "+1 555 0100", "--address", "1 Main St"])]


@pytest.mark.parametrize(("argv", "args"), [
    (["pooled"], []),
    (["pooled", "--admin-email", "ops@example.com"], ["--admin-email", "ops@example.com"]),
    (["tenants"], ["--tenants"]),
])
def test_deploying_locally_runs_the_local_deployer(cli: Cli, argv: list[str],
                                                   args: list[str]) -> None:
    modules = Modules(code=0)

    assert cli(argv, run_module=modules).code == 0
    assert modules.ran == [("pipeline.deploy.local.local_release", args)]


@pytest.mark.parametrize("argv", [
    ["pooled"], ["tenant", "--name", "Acme", "--email", "owner@acme.example", "--tier", "Basic"],
])
def test_without_a_running_platform_the_local_commands_say_so(
        cli: Cli, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))  # no platform.json: not running

    run = cli(argv, run_module=run_local_module)  # the real modules, in their own process

    assert run.code == 2
    assert "The local platform is not running" in capfd.readouterr().err


def test_deploying_the_tenants_locally_without_a_running_platform_says_so(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))  # no platform.json: not running

    run = cli(["tenants"], run_module=run_local_module)  # the real module, its own process

    assert run.code == 2
    assert "The local platform is not running: start it with `make local`." in \
        capfd.readouterr().err

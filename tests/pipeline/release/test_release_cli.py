"""``python -m pipeline.release`` locally, up to the point where a deployment would start:
everything that cannot work is said in one line and exits 2 with nothing deployed; the status
and the settings act on the real rows (the session's emulator)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pipeline.release.cli import Tools, main
from tenant_context.attribute_values import to_item
from tenant_context.platform.definitions import TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import Deployments
from tenant_context.tenancy import new_tenant_id
from tests.support.world import World


class Run:
    def __init__(self) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.asked_for_release_id = False

    def __call__(self, *argv: str) -> int:
        def release_id(root: Path) -> str:
            self.asked_for_release_id = True
            return "abcdef012345"

        return main(list(argv), Tools(self.out, self.err, release_id=release_id))


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator_url: str) -> Path:
    """A platform.json naming the session's emulator, and a platform pid nobody may signal."""
    (tmp_path / "platform.json").write_text(json.dumps({"pid": -1,
                                                        "emulatorUrl": emulator_url}))
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    return tmp_path


def test_without_a_running_platform_nothing_is_done(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    run = Run()
    assert run("rollout") == 2
    assert "make local" in run.err.getvalue()


def test_a_release_id_is_refused_locally(running: Path) -> None:
    run = Run()
    assert run("rollout", "--release-id", "v1") == 2
    assert "locally the release is the working tree" in run.err.getvalue()
    assert not run.asked_for_release_id


@pytest.mark.parametrize(("argv", "said"), [
    (["--max-concurrency", "0"], "at least 1"),
    (["--failure-threshold", "-1"], "0 or more"),
])
def test_settings_that_cannot_work_stop_the_rollout(running: Path, argv: list[str],
                                                    said: str) -> None:
    run = Run()
    assert run("rollout", *argv) == 2
    assert said in run.err.getvalue()


def test_a_malformed_row_stops_the_rollout_before_any_deployment(running: Path,
                                                                 world: World) -> None:
    dynamodb = world.clients.dynamodb
    dynamodb.put_item(TableName=TENANT_STACK_MAPPING_TABLE.name,
                      Item=to_item({"tenantId": "hand-written", "status": "active"}))
    try:
        run = Run()
        assert run("rollout") == 2
        assert "'hand-written'" in run.err.getvalue()
        assert "nothing was deployed" in run.err.getvalue()
        assert run.out.getvalue() == ""  # not even a plan
    finally:
        dynamodb.delete_item(TableName=TENANT_STACK_MAPPING_TABLE.name,
                             Key=to_item({"tenantId": "hand-written"}))


def test_staff_place_a_tenant_in_the_rollouts_and_read_the_fleet(running: Path,
                                                                 world: World) -> None:
    deployments = Deployments(world.clients.dynamodb, TENANT_STACK_MAPPING_TABLE.name)
    tenant_id = new_tenant_id()
    deployments.request(tenant_id)
    run = Run()
    assert run("settings", "--tenant-id", tenant_id, "--wave", "2",
               "--apply-latest-release", "false") == 0
    row = deployments.get(tenant_id)
    assert row is not None
    assert (row.release.wave, row.release.apply_latest_release) == (2, False)
    assert "PINNED" in run.out.getvalue()
    for argv, said in [(["--tenant-id", "pooled", "--wave", "1"], "32 hex characters"),
                       (["--tenant-id", tenant_id, "--wave", "0"], "1-100, or last"),
                       (["--tenant-id", tenant_id, "--wave", "\u0661"], "1-100, or last"),
                       (["--tenant-id", tenant_id], "nothing to change"),
                       (["--tenant-id", new_tenant_id(), "--wave", "1"], "no Platinum")]:
        refused = Run()
        assert refused("settings", *argv) == 2, argv
        assert said in refused.err.getvalue(), (argv, refused.err.getvalue())
    unchanged = deployments.get(tenant_id)
    assert unchanged == row

    status = Run()
    assert status("status") == 0
    lines = status.out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["deployment", "stack", "status"]
    assert lines[1].startswith("pooled ")
    assert any(line.startswith(tenant_id) and "PINNED" in line for line in lines)

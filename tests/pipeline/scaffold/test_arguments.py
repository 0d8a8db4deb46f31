"""Every kind of wrong argument: exit code 2, one line per problem naming its make variable,
and not one byte of the project changed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pipeline.project import PROJECT_ROOT
from tests.pipeline.scaffold.conftest import Project

TOO_LONG = "a" * 25


@pytest.mark.parametrize(("argv", "labels"), [
    (["--name", "class"], ["NAME=class"]),
    (["--name", "Review"], ["NAME=Review"]),
    (["--name", "review-service"], ["NAME=review-service"]),
    (["--name", "re__view"], ["NAME=re__view"]),
    (["--name", TOO_LONG], [f"NAME={TOO_LONG}"]),
    # ITEM and ID derived from a wrong value are not reported again.
    (["--name", "gift_card"], ["ITEM=gift_card (defaults to NAME)"]),
    (["--name", "gift_card", "--item", "Card"], ["ITEM=Card"]),
    (["--name", "review", "--id", "9stars"], ["ID=9stars"]),
    (["--name", "review", "--id", "review_id"], ["ID=review_id"]),
    (["--name", "review", "--id", "shardId"], ["ID=shardId"]),  # every item has it
    (["--name", "review", "--id", "name"], ["ID=name"]),  # a field of the generated body
    (["--name", "class", "--item", "Bad", "--id", "9"], ["NAME=class", "ITEM=Bad", "ID=9"]),
], ids=["keyword", "uppercase", "hyphen", "double-underscore", "too-long", "default-item",
        "item", "id-start", "id-underscore", "id-item-attribute", "id-body-field", "all-three"])
def test_a_value_the_registry_refuses(project: Project, argv: list[str],
                                      labels: list[str]) -> None:
    before = project.snapshot()
    run = project.scaffold(*argv)
    assert run.code == 2
    assert run.labels == labels, run.err
    assert run.out == []
    assert project.snapshot() == before


@pytest.mark.parametrize(("argv", "labels", "says"), [
    (["--name", "product"], ["NAME=product"], "already a registered service"),
    (["--name", "goods", "--item", "product"], ["ITEM=product"], "they would share tables"),
    (["--name", "prod"], ["ITEM=prod (defaults to NAME)"], "overlap product's /product"),
    (["--name", "orders"], ["ITEM=orders (defaults to NAME)"], "overlap order's /order"),
    (["--name", "users"], ["ITEM=users (defaults to NAME)"], "overlap the admin API's /user"),
    (["--name", "settings"], ["ITEM=settings (defaults to NAME)"], "the control plane's table"),
    (["--name", "pas"], ["ITEM=pas (defaults to NAME)"], "pass is a Python keyword"),
], ids=["registered", "item-taken", "route-prefix", "route-extension", "admin-api",
        "control-plane", "module-keyword"])
def test_a_service_that_would_conflict(project: Project, argv: list[str], labels: list[str],
                                       says: str) -> None:
    before = project.snapshot()
    run = project.scaffold(*argv)
    assert run.code == 2
    assert run.labels == labels, run.err
    assert says in "\n".join(run.err)
    assert project.snapshot() == before


@pytest.mark.parametrize(("existing", "says"), [
    ("review_service", "review_service/ already exists"),
    ("tests/review_service", "tests/review_service/ already exists"),
    ("shared_services/chalicelib/review_domain", "chalicelib.review_domain must be unique"),
], ids=["service-folder", "tests-folder", "package"])
def test_a_name_already_used_in_the_project(project: Project, existing: str, says: str) -> None:
    (project.root / existing).mkdir(parents=True)
    before = project.snapshot()
    run = project.scaffold("--name", "review")
    assert run.code == 2
    assert run.labels == ["NAME=review"]
    assert says in run.err[0]
    assert project.snapshot() == before


def test_no_name_is_a_usage_error(project: Project) -> None:
    before = project.snapshot()
    for argv in ([], ["--item", "review"], ["--name", ""]):
        run = project.scaffold(*argv)
        assert run.code == 2
        assert len(run.err) == 1
        assert run.err[0].startswith("error: missing NAME")
        assert "make new-service NAME=<name>" in run.err[0]
    assert project.snapshot() == before


def test_an_unknown_option_is_a_usage_error(project: Project,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        project.scaffold("--name", "review", "--colour", "blue")
    assert exit_.value.code == 2
    assert "--colour" in capsys.readouterr().err


def test_every_problem_is_one_line(project: Project) -> None:
    run = project.scaffold("--name", "stock", "--item", "settings", "--id", "key")
    assert run.labels == ["ITEM=settings", "ID=key"]
    assert run.err[-1] == "nothing was written"
    assert all("\n" not in line for line in run.err)


def test_the_registry_file_in_an_unknown_shape_is_refused(project: Project) -> None:
    registry = project.registry.read_text()
    project.registry.write_text(registry.replace("TENANT_SERVICES = TenantServices(",
                                                 "TENANT_SERVICES = TenantServices(*(", 1))
    before = project.snapshot()
    run = project.scaffold("--name", "review")
    assert run.code == 2
    assert run.err[0].startswith("error: layer/tenant_context/tenant_services.py: expected one")
    assert 'TenantService("review", "review", "reviewId"),' in run.err[0]  # to add by hand
    assert project.snapshot() == before


def test_a_missing_registry_file_is_refused(tmp_path: Path) -> None:
    run = Project(tmp_path).scaffold("--name", "review")
    assert run.code == 2
    assert "No such file or directory" in run.err[0]
    assert list(tmp_path.iterdir()) == []


def test_make_takes_names_from_its_command_line_only() -> None:
    """``make new-service`` with NAME only in the environment (WSL exports the computer's name
    as NAME): a usage error naming NAME, never a service named after the computer."""
    done = subprocess.run(["make", "-s", "new-service"], cwd=PROJECT_ROOT,
                          env={**os.environ, "NAME": "leaked", "ITEM": "leaked"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "missing NAME" in done.stderr
    assert not (PROJECT_ROOT / "leaked_service").exists()

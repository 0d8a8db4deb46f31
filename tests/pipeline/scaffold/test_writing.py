"""What the scaffold writes: exactly the service's files and one registry line, code that
compiles and passes the project's ruff whatever the names, a Chalice config equal to the
committed ones when rendered for the registered services, and nothing at all when writing
fails part way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from pipeline.project import PROJECT_ROOT
from pipeline.scaffold.chalice_config import config_text
from pipeline.scaffold.files import write_all
from pipeline.scaffold.python_text import LINE_LENGTH
from pipeline.scaffold.registry_entry import RegistryShapeError, with_entry
from pipeline.scaffold.sources import REQUIREMENTS
from tenant_context.config import Env
from tenant_context.platform.definitions import api_name, data_table
from tenant_context.tenancy import POOLED_DEPLOYMENT
from tenant_context.tenant_services import TENANT_SERVICES, TenantService
from tests.pipeline.scaffold.conftest import Project

REVIEW_FILES = {
    "review_service/app.py",
    "review_service/chalicelib/review_domain/__init__.py",
    "review_service/chalicelib/review_domain/reviews.py",
    "review_service/.chalice/config.json",
    "review_service/requirements.txt",
    "tests/review_service/__init__.py",
    "tests/review_service/test_reviews.py",
}
# Names that make naive generated code fail: the longest name, item and id the registry accepts,
# items that are builtins (``property``, ``vars`` as the module), a name the app module uses
# (``platform``), one ``view`` uses (``fields``), and an id that is a constant's name.
EDGE_CASES = [
    ("n" * 24, "property", "x" * 64),
    ("long", "w" * 24, "w" * 64),
    ("platform", "platform", "platformId"),
    ("fields", "fields", "fieldsId"),
    ("var", "var", "id"),
]


def files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def ruff(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("ruff")), "check", "--no-cache",
                           "--config", str(PROJECT_ROOT / "pyproject.toml"),
                           *map(str, paths)], capture_output=True, text=True, check=False)


def test_a_new_service_is_its_files_and_one_registry_line(project: Project) -> None:
    registry_before = project.registry.read_text().splitlines()
    run = project.scaffold("--name", "review")
    assert run.code == 0, run.err
    assert files(project.root) - {"layer/tenant_context/tenant_services.py"} == REVIEW_FILES
    registry = project.registry.read_text().splitlines()
    added = [line for line in registry if line not in registry_before]
    assert added == ['    TenantService("review", "review", "reviewId"),']
    assert [line for line in registry if line not in added] == registry_before
    assert registry[registry.index(added[0]) + 1] == ")"  # last, right above the closing

    printed = "\n".join(run.out)
    assert all(path in printed for path in REVIEW_FILES)
    assert 'layer/tenant_context/tenant_services.py' in printed
    assert "make test" in printed
    assert "<gateway>/pooled/reviews" in printed
    assert "make package" in printed
    assert run.err == []


def test_its_config_is_rendered_from_the_definitions(project: Project) -> None:
    run = project.scaffold("--name", "review", "--item", "critique", "--id", "critiqueKey")
    assert run.code == 0, run.err
    config = json.loads((project.root / "review_service/.chalice/config.json").read_text())
    service = TenantService("review", "critique", "critiqueKey")
    local = config["stages"]["local"]["environment_variables"]
    table = data_table(service, POOLED_DEPLOYMENT)
    assert config["app_name"] == "review-service"
    assert local[Env.LOCAL_GATEWAY_API_ID] == api_name(POOLED_DEPLOYMENT, "review")
    assert local[service.table_variable] == table.name == "serverless-saas-critique-pooled"
    silo = config["stages"]["local-silo"]["environment_variables"]
    assert service.table_variable not in silo
    assert Env.LOCAL_GATEWAY_API_ID not in silo
    assert (project.root / "review_service/requirements.txt").read_text() == REQUIREMENTS
    assert (project.root / "review_service/chalicelib/review_domain/critiques.py").is_file()
    assert (project.root / "tests/review_service/test_critiques.py").is_file()


@pytest.mark.parametrize("name", ["product", "order"])
def test_the_registered_services_configs_render_as_committed(name: str) -> None:
    """Keeps the scaffold honest: what it would write for a registered service is what that
    service's folder holds."""
    service = TENANT_SERVICES.named(name)
    committed = PROJECT_ROOT / service.folder / ".chalice" / "config.json"
    assert json.loads(config_text(service, TENANT_SERVICES)) == json.loads(committed.read_text())


def test_the_requirements_are_every_services() -> None:
    for service in TENANT_SERVICES:
        assert (PROJECT_ROOT / service.folder / "requirements.txt").read_text() == REQUIREMENTS


def test_the_generated_code_compiles_and_passes_ruff_whatever_the_names(
        project: Project) -> None:
    for name, item, id_attribute in [("review", "review", "reviewId"), *EDGE_CASES]:
        run = project.scaffold("--name", name, "--item", item, "--id", id_attribute)
        assert run.code == 0, run.err
    sources = sorted(project.root.rglob("*.py"))
    assert len(sources) == 1 + 5 * (1 + len(EDGE_CASES))  # the registry and 5 a service
    for source in sources:
        compile(source.read_text(), str(source), "exec")
    checked = ruff(project.root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = project.registry.read_text().splitlines()
    assert max(map(len, lines)) <= LINE_LENGTH
    assert f'{" " * 18}"{"x" * 64}"),' in lines  # the longest entry, on two lines


def test_a_failure_part_way_leaves_nothing_written(project: Project) -> None:
    (project.root / "tests").write_text("a file where the tests folder would go")
    before = project.snapshot()
    run = project.scaffold("--name", "review")
    assert run.code == 1
    assert "nothing of the new service was left written" in run.err[0]
    assert project.snapshot() == before


def test_write_all_gives_changed_files_their_bytes_back(tmp_path: Path) -> None:
    (tmp_path / "registry.py").write_bytes(b"kept\r\n")
    new = {PurePosixPath("a/b/new.txt"): "new"}
    changed = {PurePosixPath("registry.py"): "changed", PurePosixPath("missing.py"): "x"}
    with pytest.raises(FileNotFoundError):
        write_all(tmp_path, new, changed)
    assert files(tmp_path) == {"registry.py"}
    assert not (tmp_path / "a").exists()
    assert (tmp_path / "registry.py").read_bytes() == b"kept\r\n"


def test_write_all_never_writes_over_a_file(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("theirs")
    with pytest.raises(FileExistsError):
        write_all(tmp_path, {PurePosixPath("a.txt"): "mine", PurePosixPath("b.txt"): "mine"}, {})
    assert files(tmp_path) == {"b.txt"}
    assert (tmp_path / "b.txt").read_text() == "theirs"


REGISTRY = '''\
TENANT_SERVICES = TenantServices(
    TenantService("product", "product", "productId"),
)
'''
REVIEW = TenantService("review", "review", "reviewId")


@pytest.mark.parametrize(("text", "says"), [
    (REGISTRY.replace("productId\"),", "productId\")"), "does not end with a comma"),
    (REGISTRY.replace("\n)\n", "\n    )\n"), r"no line '\)' closes"),
    (REGISTRY + REGISTRY, "found 2"),
    (REGISTRY.replace("TENANT_SERVICES =", "SERVICES ="), "found 0"),
    (REGISTRY.replace("TENANT_SERVICES = TenantServices(\n",
                      "TENANT_SERVICES = TenantServices(\n    *(\n"), "not valid Python"),
], ids=["no-comma", "no-closing", "two-registries", "no-registry", "not-python"])
def test_a_registry_in_another_shape_is_refused(text: str, says: str) -> None:
    with pytest.raises(RegistryShapeError, match=says):
        with_entry(text, REVIEW)


def test_the_entry_is_added_last_and_the_rest_kept_byte_for_byte() -> None:
    crlf = REGISTRY.replace("\n", "\r\n")
    assert with_entry(crlf, REVIEW).splitlines(keepends=True) == [
        "TENANT_SERVICES = TenantServices(\r\n",
        '    TenantService("product", "product", "productId"),\r\n',
        '    TenantService("review", "review", "reviewId"),\r\n',
        ")\r\n"]

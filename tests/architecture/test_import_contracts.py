"""The architecture's import rules hold, and each contract fails when its rule is broken.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and ``make lint`` runs them;
here they run once on the tree as it is, and once per rule on a temporary copy of the code
with one violating import injected (imports under ``TYPE_CHECKING`` included), so a contract
that could not fail would show. What import-linter cannot see is checked here directly: each
Chalice app's ``app.py`` (modules all named ``app``) and imports deferred into functions.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.project import PROJECT_ROOT
from tenant_context.tenant_services import TENANT_SERVICES

SERVICE_FOLDERS = tuple(service.folder for service in TENANT_SERVICES)
APP_FOLDERS = ("authorizer", "shared_services", *SERVICE_FOLDERS)
# Where each root package lives, as the Makefile's SOURCE_PATH puts it on the path.
SOURCE_FOLDERS = ("layer", *APP_FOLDERS)
COPIED = ("layer/tenant_context", *(f"{app}/chalicelib" for app in APP_FOLDERS), "pipeline",
          "tests", "benchmarks")
OWN_PACKAGES = ("tenant_context", "chalicelib", "pipeline", "tests", "benchmarks")


def own_package(app: str) -> str:
    """An app's one package under the namespace package ``chalicelib``."""
    (package,) = (path.name for path in (PROJECT_ROOT / app / "chalicelib").iterdir()
                  if (path / "__init__.py").exists())
    return f"chalicelib.{package}"


# lint-imports with only ``root``'s code on the path: the virtualenv's .pth file also puts this
# checkout's layer/ and authorizer/ there, and a second portion of the namespace package
# ``chalicelib`` would let grimp read either copy of a module.
_LINT_ONLY = """
import sys
from importlinter.cli import lint_imports_command
checkout = {checkout!r}
sys.path = [path for path in sys.path if path not in checkout]
sys.argv = ["lint-imports", "--no-cache", {config!r}]
sys.exit(lint_imports_command())
"""


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([*(str(root / folder) for folder in SOURCE_FOLDERS), str(root)])
    checkout = [] if root == PROJECT_ROOT else [
        str(PROJECT_ROOT), *(str(PROJECT_ROOT / folder) for folder in SOURCE_FOLDERS)]
    runner = _LINT_ONLY.format(checkout=checkout, config=str(root / "pyproject.toml"))
    return subprocess.run([sys.executable, "-c", runner],
                          cwd=root, env={**os.environ, "PYTHONPATH": path},
                          capture_output=True, text=True, timeout=120)


def test_every_contract_holds() -> None:
    checked = lint_imports(PROJECT_ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("code")
    for folder in COPIED:
        shutil.copytree(PROJECT_ROOT / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


# (module file in the copy, the import injected, the contract that must break)
VIOLATIONS = [
    ("layer/tenant_context/service/sharding.py", "import chalicelib.control_plane.tenant_store",
     "The layer knows no app"),
    ("layer/tenant_context/platform/definitions.py", "import pipeline.project",
     "The layer knows no app"),
    ("layer/tenant_context/tenant_services.py", "import tenant_context.platform.definitions",
     "The layer: service runtime and platform records apart"),
    ("product_service/chalicelib/product_catalog/products.py",
     "import chalicelib.order_book.orders", "Apps (services and the authorizer) never import"),
    ("authorizer/chalicelib/tenant_authorizer/tokens.py",
     "import chalicelib.control_plane.identity", "Apps (services and the authorizer) never"),
    ("shared_services/chalicelib/control_plane/views.py", "import pipeline.project",
     "Runtime code never imports deployment code"),
    ("order_service/chalicelib/order_book/orders.py",
     "import tenant_context.platform.definitions", "Tenant services need only"),
    ("layer/tenant_context/service/context.py", "import tenant_context.platform.tenant_records",
     "The layer: service runtime and platform records apart"),
    ("layer/tenant_context/errors.py",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import tenant_context.config",
     "No import cycle in our code"),
    ("pipeline/stacks/merge.py", "import pipeline.packaging.app_packages",
     "The pipeline: deployers over the local cloud"),
    ("pipeline/local_cloud/processes.py", "import pipeline.deploy.cli",
     "No import cycle in our code"),
    ("tests/support/clock.py", "import tests.e2e.test_metrics",
     "Tests: folders never import each other"),
    ("tests/order_service/test_contract.py", "import tests.product_service.test_versions",
     "Tests: folders never import each other"),
    ("tests/support/clock.py", "import tests.conftest", "Tests: support imports no test"),
    ("benchmarks/bench_listing.py", "import tests.order_service.test_contract",
     "Of tests/, benchmarks import only tests/support"),
]


@pytest.mark.parametrize(("module", "injected", "contract"), VIOLATIONS,
                         ids=[f"{module.rsplit('/', 1)[1]}->{injected.split()[-1]}"
                              for module, injected, _ in VIOLATIONS])
def test_a_violating_import_breaks_its_contract(copy_of_the_code: Path, module: str,
                                                 injected: str, contract: str) -> None:
    target = copy_of_the_code / module
    original = target.read_text()
    target.write_text(f"{original}\n{injected}\n")
    try:
        checked = lint_imports(copy_of_the_code)
    finally:
        target.write_text(original)
    assert checked.returncode != 0, checked.stdout
    broken = checked.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, checked.stdout


def imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
    return modules


@pytest.mark.parametrize("app", APP_FOLDERS)
def test_an_app_module_imports_only_its_own_code_and_the_layer(app: str) -> None:
    own = own_package(app)
    ours = [module for module in imported_modules(PROJECT_ROOT / app / "app.py")
            if module.split(".")[0] in OWN_PACKAGES]
    assert ours
    foreign = [module for module in ours
               if not (module.startswith(("tenant_context.", f"{own}.")) or module == own)]
    assert foreign == []
    if app in SERVICE_FOLDERS:
        assert not [module for module in ours if module.startswith("tenant_context.platform")]


def deferred_imports_of_our_code(path: Path) -> list[tuple[int, str]]:
    """Imports of our own packages inside a function: the usual way to hide an import cycle."""
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(node.lineno, name) for name in names
                      if name.split(".")[0] in OWN_PACKAGES]
    return found


def test_no_module_defers_an_import_of_our_own_code() -> None:
    """Deferred imports stay for what costs a cold start (boto3), never for our own modules."""
    roots = [PROJECT_ROOT / folder for folder in (*SOURCE_FOLDERS, "pipeline", "tests",
                                                  "benchmarks")]
    deferred = {str(path.relative_to(PROJECT_ROOT)): found for root in roots
                for path in sorted(root.rglob("*.py"))
                if "__pycache__" not in path.parts
                and (found := deferred_imports_of_our_code(path))}
    assert deferred == {}


def test_the_deferred_import_check_finds_one(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("def build():\n    from tenant_context.service import tenant_items\n"
                      "    import boto3\n")
    assert deferred_imports_of_our_code(module) == [(2, "tenant_context.service")]

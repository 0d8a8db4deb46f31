"""No hand-kept list of tenant services: outside the registry and a service's own folders, the
code never names a registered service, except in the short, explained allow-list below.

Everything that must know the services (templates, packaging, policies, the local platform,
the Makefile, the tests' fixtures) reads ``tenant_context.tenant_services``; a name spelt
anywhere else is a list that the next service would have to be added to by hand, and that fails
silently when it is not (an API missing from a usage plan or a deployment's API ids answers
403). What counts as naming a service is any form the platform derives from its entry (its
folder, app, resources' prefixes, table, table variable, API name, route, code package) in an
identifier or a string constant, or a string that is exactly its name or item; plain words
are not, so a service called ``review`` does not trip over ``REVIEW_IN_PROGRESS``. Read: the
Python code (docstrings and comments are prose, not lists), and the whole text of the
Makefile, pyproject.toml, the CI script and the non-service apps' Chalice stages. Test modules
may use one service's routes as sample data (``GET /products`` as a request to authorize); the
fixtures and helpers they share (``tests/support``) and the architecture tests may not.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from pipeline.project import PROJECT_ROOT
from tenant_context.tenant_services import TENANT_SERVICES, TenantService

REGISTRY = PROJECT_ROOT / "layer" / "tenant_context" / "tenant_services.py"
THIS_CHECK = Path(__file__).resolve()
PYTHON_FOLDERS = ("layer", "authorizer", "shared_services", "pipeline", "benchmarks",
                  "tests/support", "tests/architecture")
TEXT_FILES = ("Makefile", "pyproject.toml", ".ci/run", "authorizer/.chalice/config.json",
              "shared_services/.chalice/config.json")
# (file, service): why that file may name that service.
ALLOWED = {
    ("order_service/chalicelib/order_book/orders.py", "product"):
        "domain: an order's lines name the tenant's products (read through its registry entry)",
    ("benchmarks/bench_listing.py", "product"):
        "domain: measures GET /products against the reference solution's product listing",
    ("tests/architecture/test_import_contracts.py", "product"):
        "an injected import between two apps, to show the contract fails",
    ("tests/architecture/test_import_contracts.py", "order"):
        "an injected import between two apps, to show the contract fails",
    ("tests/architecture/test_readme_map.py", "product"): "samples of the map's generic rows",
    ("tests/architecture/test_readme_map.py", "order"): "samples of the map's generic rows",
    ("tests/support/readme_commands.py", "product"):
        "the README's walkthrough creates products, as a user following it does",
    ("benchmarks/bench_metering.py", "product"):
        "domain: measures metering on the product service's listing and creation",
    ("benchmarks/bench_soak.py", "product"):
        "domain: measures GET /products through the front door and straight to its service",
    ("tests/support/soak.py", "product"):
        "the soak's traffic is a tenant's product cycle, as the issue's soak describes it",
}


def squeezed(text: str) -> str:
    """``POOLED_PRODUCT_TABLE``, ``PooledProductTable`` and ``pooled-product-table`` alike."""
    return re.sub(r"[_\-\s]", "", text).lower()


@functools.cache
def derived_forms(service: TenantService) -> frozenset[str]:
    """What the platform derives from an entry, squeezed: a hand-kept list spells these."""
    logical = service.logical_name.lower()
    packages = {path.name for path in (PROJECT_ROOT / service.folder / "chalicelib").glob("*")
                if (path / "__init__.py").exists()}
    return frozenset(squeezed(form) for form in (
        service.folder, service.app_name, f"pooled{logical}", f"{logical}apihandler",
        f"{logical}restapi", f"{logical}apiid", f"{service.item}table", service.route_prefix,
        f"{service.name}-service", *packages))


def names(service: TenantService, text: str, *, whole_text: bool = False) -> bool:
    if not whole_text and text in (service.name, service.item):
        return True
    return any(form in squeezed(text) for form in derived_forms(service))


def code_text(path: Path) -> Iterator[str]:
    """Identifiers and string constants of a module, docstrings aside."""
    tree = ast.parse(path.read_text())
    # A string that is a statement of its own is a docstring (of a module, class, function
    # or, by convention, of the constant above it).
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield node.value
        elif isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.alias):
            yield node.name
            if node.asname:
                yield node.asname
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def files() -> Iterator[tuple[Path, list[str], bool]]:
    """(file, its texts, whether a text is a whole file rather than one constant)."""
    for folder in PYTHON_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path not in (REGISTRY, THIS_CHECK) and "__pycache__" not in path.parts:
                yield path, list(code_text(path)), False
    for service in TENANT_SERVICES:  # another service's folder may name only what it reads
        for path in sorted((PROJECT_ROOT / service.folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path, list(code_text(path)), False
    for name in TEXT_FILES:
        yield PROJECT_ROOT / name, [(PROJECT_ROOT / name).read_text()], True


def named_services() -> set[tuple[str, str]]:
    """(file, service) for each service a file names, outside the service's own folders."""
    found = set()
    for path, texts, whole in files():
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        for service in TENANT_SERVICES:
            if relative.startswith((f"{service.folder}/", f"tests/{service.folder}/")):
                continue
            if any(names(service, text, whole_text=whole) for text in texts):
                found.add((relative, service.name))
    return found


def test_no_code_outside_the_registry_names_a_service() -> None:
    assert sorted(named_services() - set(ALLOWED)) == []


def test_every_allowance_is_still_needed() -> None:
    """An allowance nobody uses is a hole left open for the next list."""
    assert set(ALLOWED) <= named_services()


def test_the_check_sees_derived_names_in_code_but_not_prose_or_plain_words(
        tmp_path: Path) -> None:
    review = TenantService("review", "review", "reviewId")
    module = tmp_path / "module.py"
    samples = {
        'POOLED_REVIEW_TABLE = "x"': True, "class PooledReview: ...": True,
        'PATH = "/reviews"': True, 'FOLDER = "review_service"': True,
        'API = api_name(tenant, "review")': True, 'ID = "ReviewRestAPI"': True,
        '"""Reviews and the review service, in prose."""': False,
        'STATUS = "REVIEW_IN_PROGRESS"': False, "# the review_service folder": False,
        "def reviewed(under_review: bool) -> None: ...": False,
    }
    for sample, expected in samples.items():
        module.write_text(f"{sample}\n")
        assert any(names(review, text) for text in code_text(module)) is expected, sample

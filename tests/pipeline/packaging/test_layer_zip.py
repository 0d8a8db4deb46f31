"""The ONE layer: tenant_context and its pinned dependencies under python/, for Lambda."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.project import PROJECT_ROOT
from pipeline.stacks.baseline_template import LAYER_ZIP
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.lambda_runtime import (
    LambdaFunction,
    functions,
    lambda_environment,
    runtime_packages,
    unpacked,
)
from tests.support.packaged import PARAMETERS, Packaged

APPS = ("authorizer", "shared_services", *(service.folder for service in TENANT_SERVICES))


def test_layer_zip_holds_the_package_under_python(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.out / "layer" / LAYER_ZIP) as archive:
        names = archive.namelist()
    assert all(name.startswith("python/") for name in names)
    source = sorted(path.relative_to(PROJECT_ROOT / "layer").as_posix()
                    for pattern in ("*.py", "*.json")  # data files too: the prices
                    for path in (PROJECT_ROOT / "layer" / "tenant_context").rglob(pattern))
    assert "tenant_context/platform/prices.json" in source
    for module in source:
        assert f"python/{module}" in names
    for dependency in ("aws_lambda_powertools/__init__.py", "jwt/__init__.py",
                       "cryptography/__init__.py", "aws_xray_sdk/__init__.py"):
        assert f"python/{dependency}" in names
    # Built for Lambda (manylinux2014: Amazon Linux 2's glibc), not for this machine.
    assert any(name.startswith("python/cryptography/hazmat/bindings/_rust")
               and name.endswith(".so") for name in names)
    assert not any(name.startswith("python/boto") for name in names)  # Lambda's own
    # Bytecode: only this build's (tests/pipeline/packaging/test_reproducible.py).


def test_the_same_inputs_build_the_same_zip(packaged: Packaged, tmp_path: Path) -> None:
    """Built again by ``make layer``'s command: the same bytes as the session's package."""
    built = subprocess.run([sys.executable, "-m", "pipeline.packaging", "layer", "--out",
                            str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           timeout=300, check=True)
    again = Path(built.stdout.strip())
    assert again == tmp_path / "layer" / LAYER_ZIP
    assert again.read_bytes() == (packaged.out / "layer" / LAYER_ZIP).read_bytes()


@pytest.mark.parametrize("app", APPS)
def test_every_app_imports_the_layer_package(app: str) -> None:
    tree = ast.parse((PROJECT_ROOT / app / "app.py").read_text())
    imported = {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert any(module.startswith(("tenant_context.", "chalicelib.tenant_authorizer."))
               for module in imported), imported
    requirements = (PROJECT_ROOT / app / "requirements.txt").read_text().splitlines()
    assert not [line for line in requirements if line.strip() and not line.startswith("#")], \
        "dependencies ship in the shared layer, not per function"


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_every_function_imports_from_its_zip_and_the_layer_alone(
        packaged: Packaged, deployment: str, tmp_path: Path) -> None:
    """Each packaged function's handler imports in a clean interpreter (``-I -S``: no site
    packages, so not this virtualenv's editable ``tenant_context``) whose path holds only the
    function's zip, the layer's ``python/`` and the runtime's boto3, as Lambda lays them out;
    from the bytecode they ship (``-B``: nothing written, as on Lambda's read-only disks), so
    no module of theirs is compiled on a cold start."""
    layer = unpacked(packaged.out / "layer" / LAYER_ZIP, tmp_path / "layer") / "python"
    runtime = runtime_packages(tmp_path / "runtime")
    found = functions(packaged.templates[deployment])
    assert found
    for name, properties in found:
        code = unpacked(packaged.file(deployment).parent / properties["CodeUri"],
                        tmp_path / name)
        result = LambdaFunction(code, layer, runtime, properties["Handler"], lambda_environment(
            properties, PARAMETERS[deployment])).load()
        assert result["callable"], name
        assert result["compiled"] == [], name
        assert Path(result["tenant_context"]).is_relative_to(layer), result


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_no_function_zip_bundles_the_layer_package(packaged: Packaged, deployment: str) -> None:
    """tenant_context (and its dependencies) come from the layer only: a copy in a function's
    zip would shadow the layer and could drift from it."""
    layer_top = {"tenant_context", "aws_lambda_powertools", "jwt", "cryptography",
                 "aws_xray_sdk"}
    for name, properties in functions(packaged.templates[deployment]):
        with zipfile.ZipFile(packaged.file(deployment).parent / properties["CodeUri"]) as zipped:
            entries = zipped.namelist()
        top = {entry.split("/", 1)[0] for entry in entries}
        assert not top & layer_top, (name, sorted(top & layer_top))
        # Only the authorizer's own package travels in its zip (its chalicelib/).
        carries_authorizer = any(entry.startswith("chalicelib/tenant_authorizer/")
                                 for entry in entries)
        assert carries_authorizer == (properties["Handler"] == "app.tenant_authorizer")

"""The ONE layer: tenant_context and its pinned dependencies under python/, for Lambda."""

from __future__ import annotations

import ast
import zipfile

import pytest

from pipeline.local.paths import PROJECT_ROOT
from pipeline.templates.baseline import LAYER_ZIP
from tests.packaging.conftest import Packaged

APPS = ("authorizer", "shared_services", "product_service", "order_service")


def test_layer_zip_holds_the_package_under_python(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.out / "layer" / LAYER_ZIP) as archive:
        names = archive.namelist()
    assert all(name.startswith("python/") for name in names)
    source = sorted(path.relative_to(PROJECT_ROOT / "layer").as_posix()
                    for path in (PROJECT_ROOT / "layer" / "tenant_context").rglob("*.py"))
    for module in source:
        assert f"python/{module}" in names
    for dependency in ("aws_lambda_powertools/__init__.py", "jwt/__init__.py",
                       "cryptography/__init__.py", "aws_xray_sdk/__init__.py"):
        assert f"python/{dependency}" in names
    # Built for Lambda (manylinux2014: Amazon Linux 2's glibc), not for this machine.
    assert any(name.startswith("python/cryptography/hazmat/bindings/_rust")
               and name.endswith(".so") for name in names)
    assert not any("__pycache__" in name or name.startswith("python/boto") for name in names)


def test_the_same_inputs_build_the_same_zip(packaged: Packaged, tmp_path: object) -> None:
    from pathlib import Path

    from pipeline.packaging import build_layer

    again = build_layer(Path(str(tmp_path)))
    assert again.read_bytes() == (packaged.out / "layer" / LAYER_ZIP).read_bytes()


@pytest.mark.parametrize("app", APPS)
def test_every_app_imports_the_layer_package(app: str) -> None:
    tree = ast.parse((PROJECT_ROOT / app / "app.py").read_text())
    imported = {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert imported & {"tenant_context", "tenant_authorizer"}
    requirements = (PROJECT_ROOT / app / "requirements.txt").read_text().splitlines()
    assert not [line for line in requirements if line.strip() and not line.startswith("#")], \
        "dependencies ship in the shared layer, not per function"

"""The ONE layer: tenant_context and its pinned dependencies under python/, for Lambda."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.project import PROJECT_ROOT
from pipeline.stacks.baseline_template import LAYER_ZIP
from tenant_context.tenant_services import TENANT_SERVICES
from tests.support.packaged import PARAMETERS, Packaged

APPS = ("authorizer", "shared_services", *(service.folder for service in TENANT_SERVICES))


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


# What the python3.11 Lambda runtime itself provides (boto3 and its dependencies): everything
# else a function imports must come from its own zip or from the ONE layer.
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3",
                           "six.py")
IMPORT_AS_LAMBDA = """
import importlib, json, sys
sys.path[:0] = sys.argv[1:4]
module_name, attribute = sys.argv[4].rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), attribute)
import tenant_context
print(json.dumps({"callable": callable(handler), "tenant_context": tenant_context.__file__}))
"""


def _lambda_runtime(into: Path) -> Path:
    """The runtime's own packages, linked from this virtualenv (same pins as Lambda's)."""
    site_packages = Path(boto3.__file__).resolve().parents[1]
    into.mkdir()
    for name in LAMBDA_RUNTIME_PACKAGES:
        (into / name).symlink_to(site_packages / name)
    return into


def _functions(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, resource["Properties"]) for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"]


def _lambda_environment(properties: dict[str, Any], parameters: dict[str, str]
                        ) -> dict[str, str]:
    """The function's template variables (a parameter reference becomes the test value of
    that parameter, a resource reference a placeholder name) and what the Lambda service sets.
    No endpoint answers, so an import that called AWS would fail."""
    def value(name: str, raw: Any) -> str:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, dict) and raw.get("Ref") in parameters:
            return parameters[raw["Ref"]]
        return f"placeholder-{name.lower()}"

    variables = properties.get("Environment", {}).get("Variables", {})
    return {**{name: value(name, raw) for name, raw in variables.items()},
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "none", "AWS_SECRET_ACCESS_KEY": "none",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_LAMBDA_FUNCTION_NAME": "imported-by-a-test", "PATH": os.environ["PATH"]}


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_every_function_imports_from_its_zip_and_the_layer_alone(
        packaged: Packaged, deployment: str, tmp_path: Path) -> None:
    """Each packaged function's handler imports in a clean interpreter (``-I -S``: no site
    packages, so not this virtualenv's editable ``tenant_context``) whose path holds only the
    function's zip, the layer's ``python/`` and the runtime's boto3, as Lambda lays them out."""
    layer = tmp_path / "layer"
    with zipfile.ZipFile(packaged.out / "layer" / LAYER_ZIP) as archive:
        archive.extractall(layer)
    runtime = _lambda_runtime(tmp_path / "runtime")
    functions = _functions(packaged.templates[deployment])
    assert functions
    for name, properties in functions:
        code = packaged.file(deployment).parent / properties["CodeUri"]
        app_dir = tmp_path / name
        with zipfile.ZipFile(code) as archive:
            archive.extractall(app_dir)
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", IMPORT_AS_LAMBDA, str(app_dir),
             str(layer / "python"), str(runtime), properties["Handler"]],
            cwd=tmp_path, env=_lambda_environment(properties, PARAMETERS[deployment]),
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{name} ({properties['Handler']}): {done.stderr}"
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["callable"], name
        assert Path(result["tenant_context"]).is_relative_to(layer / "python"), result


@pytest.mark.parametrize("deployment", ["pooled", "silo"])
def test_no_function_zip_bundles_the_layer_package(packaged: Packaged, deployment: str) -> None:
    """tenant_context (and its dependencies) come from the layer only: a copy in a function's
    zip would shadow the layer and could drift from it."""
    layer_top = {"tenant_context", "aws_lambda_powertools", "jwt", "cryptography",
                 "aws_xray_sdk"}
    for name, properties in _functions(packaged.templates[deployment]):
        with zipfile.ZipFile(packaged.file(deployment).parent / properties["CodeUri"]) as zipped:
            entries = zipped.namelist()
        top = {entry.split("/", 1)[0] for entry in entries}
        assert not top & layer_top, (name, sorted(top & layer_top))
        # Only the authorizer's own package travels in its zip (its chalicelib/).
        carries_authorizer = any(entry.startswith("chalicelib/tenant_authorizer/")
                                 for entry in entries)
        assert carries_authorizer == (properties["Handler"] == "app.tenant_authorizer")

"""A packaged function loaded as Lambda loads it: its zip, the layer's ``python/`` and the
runtime's own boto3 on the path of a clean interpreter (``-I -S``: not this virtualenv), which
writes no bytecode (``-B``: Lambda's ``/var/task`` and ``/opt`` are read-only, and root would
write into a read-only folder anyway), with the function's template variables and what the
Lambda service sets. Shared by the packaging tests and the cold-start benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

# What the python3.11 Lambda runtime itself provides (boto3 and its dependencies): everything
# else a function imports must come from its own zip or from the ONE layer.
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3",
                           "six.py")
# Imports the handler, timing it, and lists the modules of the zip and the layer that had to be
# compiled from source: none, when their bytecode is shipped and valid.
_LOAD = """
import importlib, importlib.machinery, json, sys, time
sys.path[:0] = sys.argv[1:4]
shipped, compiled = tuple(sys.argv[1:3]), []
to_code = importlib.machinery.SourceFileLoader.source_to_code
def counted(self, data, path, *, _optimize=-1):
    if str(path).startswith(shipped):
        compiled.append(str(path))
    return to_code(self, data, path, _optimize=_optimize)
importlib.machinery.SourceFileLoader.source_to_code = counted
module_name, attribute = sys.argv[4].rsplit(".", 1)
start = time.perf_counter()
handler = getattr(importlib.import_module(module_name), attribute)
seconds = time.perf_counter() - start
import tenant_context
print(json.dumps({"callable": callable(handler), "tenant_context": tenant_context.__file__,
                  "compiled": compiled, "seconds": seconds}))
"""
# The baseline a function is compared with: what any Python function on Lambda pays.
_BARE = """
import json, sys, time
sys.path[:0] = sys.argv[1:2]
start = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def runtime_packages(into: Path) -> Path:
    """The runtime's own packages, linked from this virtualenv (same pins as Lambda's)."""
    site_packages = Path(boto3.__file__).resolve().parents[1]
    into.mkdir(parents=True)
    for name in LAMBDA_RUNTIME_PACKAGES:
        (into / name).symlink_to(site_packages / name)
    return into


def functions(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, resource["Properties"]) for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"]


def lambda_environment(properties: dict[str, Any], parameters: dict[str, str]
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
            "AWS_LAMBDA_FUNCTION_NAME": "imported-by-a-test", "LAMBDA_TASK_ROOT": "/var/task",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "PATH": os.environ["PATH"]}


def unpacked(archive_path: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(into)
    return into


@dataclass(frozen=True)
class LambdaFunction:
    """One function laid out as Lambda lays it out."""

    code: Path  # its zip, unpacked (``/var/task``)
    layer: Path  # the layer's ``python/`` (``/opt/python``)
    runtime: Path  # the runtime's boto3
    handler: str  # ``app.app`` ...
    environment: dict[str, str]

    def load(self) -> dict[str, Any]:
        """Imports the handler in a fresh interpreter: its result (``callable``,
        ``tenant_context``, ``compiled``, ``seconds``)."""
        return _run(_LOAD, [str(self.code), str(self.layer), str(self.runtime), self.handler],
                    self.environment, self.code.parent)


def bare_boto3_seconds(runtime: Path, environment: dict[str, str]) -> float:
    """``import boto3`` and one client, in the same kind of fresh interpreter."""
    return float(_run(_BARE, [str(runtime)], environment, runtime.parent)["seconds"])


def _run(script: str, arguments: list[str], environment: dict[str, str], cwd: Path
         ) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", script, *arguments],
                          cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{arguments}: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

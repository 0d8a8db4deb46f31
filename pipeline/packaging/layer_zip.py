"""``make layer``: ``tenant_context`` plus its pinned dependencies (Lambda platform wheels) under
``python/`` in ONE zip, built once and referenced by every function; reproducible, with the
bytecode Lambda cannot write under ``/opt`` (``pipeline.packaging.reproducible_zip``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.packaging.reproducible_zip import LAYER_ROOT, reproducible_tree
from pipeline.project import PROJECT_ROOT
from pipeline.stacks.baseline_template import LAYER_ZIP

LAYER_SOURCE = PROJECT_ROOT / "layer"
LAMBDA_PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp",
                   "--python-version", "3.11", "--only-binary=:all:"]


def build_layer(out_dir: Path) -> Path:
    staging = out_dir / "layer-build"
    shutil.rmtree(staging, ignore_errors=True)
    target = staging / "python"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-compile", "--target", str(target), *LAMBDA_PLATFORM,
                    "-r", str(LAYER_SOURCE / "requirements.txt")], check=True)
    shutil.copytree(LAYER_SOURCE / "tenant_context", target / "tenant_context",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.rmtree(target / "bin", ignore_errors=True)
    return reproducible_tree(staging, LAYER_ROOT, out_dir / LAYER_ZIP)

"""``make layer``: ``tenant_context`` plus its pinned dependencies (Lambda platform wheels) under
``python/`` in ONE zip, built once and referenced by every function."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from pipeline.project import PROJECT_ROOT
from pipeline.stacks.baseline_template import LAYER_ZIP

LAYER_SOURCE = PROJECT_ROOT / "layer"
LAMBDA_PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp",
                   "--python-version", "3.11", "--only-binary=:all:"]
_EXCLUDED = ("__pycache__", ".dist-info/RECORD")
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # reproducible zips: same input, same bytes


def build_layer(out_dir: Path) -> Path:
    staging = out_dir / "layer-build"
    shutil.rmtree(staging, ignore_errors=True)
    target = staging / "python"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), *LAMBDA_PLATFORM,
                    "-r", str(LAYER_SOURCE / "requirements.txt")], check=True)
    shutil.copytree(LAYER_SOURCE / "tenant_context", target / "tenant_context",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.rmtree(target / "bin", ignore_errors=True)
    zip_path = out_dir / LAYER_ZIP
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(staging.rglob("*")):
            relative = path.relative_to(staging).as_posix()
            if path.is_dir() or any(part in relative for part in _EXCLUDED):
                continue
            info = zipfile.ZipInfo(relative, _FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    shutil.rmtree(staging)
    return zip_path

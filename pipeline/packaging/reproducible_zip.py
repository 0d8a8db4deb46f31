"""Zips that depend only on what they hold, with the bytecode Lambda needs already in them.

Why: a release uploads and redeploys what changed, and it can only tell by content if the same
sources always give the same bytes. ``chalice package`` does not: it takes the ``__pycache__``
that importing the app left in the source tree (bytecode stamped with the source's mtime,
which differs in every clone) and walks folders in the file system's order. And Lambda's
``/var/task`` and ``/opt`` are read-only, so a function whose zip or layer lacks bytecode
compiles every module again on every cold start.

So every zip is rebuilt here from sources alone: entries sorted, one fixed date, fixed
permissions, and bytecode compiled by this toolchain's Python (the Makefile requires 3.11, the
Lambda runtime's) with hash-based invalidation (PEP 552: valid without a writable cache and
without a timestamp), the path a traceback shows being the one in Lambda (``/var/task/...``,
``/opt/python/...``), and ``PYTHONHASHSEED=0`` so set constants marshal in one order.
What could still differ between machines: the zlib build (compressed bytes) and Python's patch
release (bytecode); both are pinned in practice by the Makefile's one toolchain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tenant_context.config import Env

FIXED_TIME = (2024, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
FUNCTION_ROOT = "/var/task"  # where Lambda unpacks a function's zip
LAYER_ROOT = "/opt"  # where Lambda unpacks a layer
_STALE = ("__pycache__", ".pyc", ".dist-info/RECORD")


def stale(relative: str) -> bool:
    """Bytecode made elsewhere (its stamps are that machine's) and pip's install record."""
    return any(part in relative for part in _STALE)


def compile_bytecode(tree: Path, runtime_root: str) -> None:
    """Hash-based bytecode beside every module of ``tree``, which Lambda unpacks at
    ``runtime_root``."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0",
                    "--invalidation-mode", "checked-hash", "-s", str(tree), "-p", runtime_root,
                    str(tree)],
                   env={**os.environ, Env.PYTHONHASHSEED: "0"}, check=True)


def write_zip(tree: Path, zip_path: Path) -> Path:
    """Every file of ``tree``, sorted, dated and permitted the same."""
    zip_path.unlink(missing_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(tree.rglob("*"), key=lambda found: found.relative_to(tree).as_posix()):
            if path.is_dir():
                continue
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return zip_path


def reproducible_tree(tree: Path, runtime_root: str, zip_path: Path) -> Path:
    """``tree``'s sources with fresh bytecode, zipped reproducibly; ``tree`` is consumed."""
    for path in sorted(tree.rglob("*"), reverse=True):  # children before their folders
        if stale(path.relative_to(tree).as_posix()) and path.exists():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    compile_bytecode(tree, runtime_root)
    write_zip(tree, zip_path)
    shutil.rmtree(tree)
    return zip_path


def rebuilt_function_zip(zip_path: Path, staging: Path) -> Path:
    """A function's zip as ``chalice package`` wrote it, rebuilt in place: same sources, no
    stray bytecode, reproducible bytes, bytecode for ``/var/task``."""
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(staging)
    return reproducible_tree(staging, FUNCTION_ROOT, zip_path)

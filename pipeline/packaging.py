"""``make layer`` and ``make package``: build artifacts for the aws target.

- layer: ``tenant_context`` plus its pinned dependencies (Lambda platform wheels) under
  ``python/`` in ONE zip, built once and referenced by every function.
- package: ``chalice package`` of every app with its merge template, joined into one stack per
  deployment (``pipeline.templates``): ``dist/cloudformation/pooled/template.json`` (the pooled
  stack, once) and ``dist/cloudformation/silo/template.json`` (one Platinum tenant's stack,
  parameterised by tenant), each beside the zips it names by relative path, ready for
  ``pipeline.aws`` (or ``aws cloudformation package``) to upload.

    python -m pipeline.packaging layer|package [--out dist]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.local.paths import PROJECT_ROOT
from pipeline.templates import pooled, silo
from pipeline.templates.baseline import LAYER_ZIP, baseline_merge_template
from pipeline.templates.merge import Template, combined, prefixed

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


def chalice_package(app_dir: Path, merge_template: dict[str, object], out_dir: Path) -> Path:
    """``chalice package`` of one app into ``out_dir`` (sam.json + deployment.zip)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    merge_file = out_dir.parent / f"{out_dir.name}.merge.json"
    merge_file.write_text(json.dumps(merge_template, indent=2))
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "PATH": str(Path(sys.executable).parent)}
    subprocess.run([str(Path(sys.executable).with_name("chalice")), "package",
                    "--stage", "prod", "--pkg-format", "cloudformation",
                    "--template-format", "json", "--merge-template", str(merge_file),
                    str(out_dir)], cwd=app_dir, env=env, check=True, capture_output=True)
    return out_dir / "sam.json"


@dataclass(frozen=True)
class AppPart:
    """One app's ``chalice package`` output, as a part of a deployment's stack."""

    directory: str
    prefix: str
    merge_template: Callable[[], Template]
    # A last change to the prefixed part (it gets the prefix).
    finish: Callable[[Template, str], Template] | None = None


POOLED_PARTS = (
    AppPart("authorizer", "", baseline_merge_template),
    AppPart("shared_services", pooled.ADMIN, pooled.admin_merge_template),
    AppPart("product_service", pooled.POOLED_PRODUCT, pooled.pooled_product_merge_template),
    AppPart("order_service", pooled.POOLED_ORDER, pooled.pooled_order_merge_template),
)
SILO_PARTS = (
    AppPart("product_service", silo.PRODUCT, silo.product_merge_template, silo.through_alias),
    AppPart("order_service", silo.ORDER, silo.order_merge_template, silo.through_alias),
)
TEMPLATE_FILE = "template.json"


def package_deployment(name: str, parts: tuple[AppPart, ...], stack: Template,
                       out_dir: Path) -> Path:
    """``dist/cloudformation/<name>/template.json`` and the zips it names (relative paths, as
    ``aws cloudformation package`` expects; the deployer uploads them)."""
    deployment_dir = out_dir / "cloudformation" / name
    shutil.rmtree(deployment_dir, ignore_errors=True)
    deployment_dir.mkdir(parents=True)
    templates = []
    for part in parts:
        build_dir = out_dir / "build" / f"{name}-{part.directory}"
        sam = chalice_package(PROJECT_ROOT / part.directory, part.merge_template(), build_dir)
        template = json.loads(sam.read_text())
        code = f"{part.directory}.zip"
        shutil.copy(build_dir / "deployment.zip", deployment_dir / code)
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = f"./{code}"
        template = prefixed(template, part.prefix)
        templates.append(part.finish(template, part.prefix) if part.finish else template)
    template_file = deployment_dir / TEMPLATE_FILE
    template_file.write_text(json.dumps(combined(*templates, stack), indent=2))
    return template_file


def package(out_dir: Path) -> list[Path]:
    """The layer (once), the pooled stack and the silo stack of one Platinum tenant."""
    layer_zip = build_layer(out_dir / "layer")
    pooled_template = package_deployment("pooled", POOLED_PARTS,
                                         pooled.pooled_stack_resources(), out_dir)
    shutil.copy(layer_zip, pooled_template.parent / LAYER_ZIP)
    silo_template = package_deployment(
        "silo", SILO_PARTS, silo.silo_stack_resources(pooled.edge_routes(silo.PRODUCT,
                                                                         silo.ORDER)), out_dir)
    return [pooled_template, silo_template]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["layer", "package"])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "dist")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "layer":
        print(build_layer(args.out / "layer"))
    else:
        for template in package(args.out):
            print(template)
    return 0


if __name__ == "__main__":
    sys.exit(main())

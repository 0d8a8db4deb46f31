"""``make package``: ``chalice package`` of every app with its merge template, joined into one
stack per deployment (``pipeline.stacks``): ``dist/cloudformation/pooled/template.json`` (the
pooled stack, once) and ``dist/cloudformation/silo/template.json`` (one Platinum tenant's stack,
parameterised by tenant), each beside the zips it names by relative path, ready for
``pipeline.deploy.aws`` (or ``aws cloudformation package``) to upload. Every zip is rebuilt
reproducibly with its bytecode (``pipeline.packaging.reproducible_zip``), and every function
behind an alias publishes a new version when its zip or the layer changes (``code_digest``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.packaging.layer_zip import build_layer
from pipeline.packaging.reproducible_zip import rebuilt_function_zip
from pipeline.project import PROJECT_ROOT, source_path
from pipeline.stacks import pooled_template as pooled
from pipeline.stacks import silo_template as silo
from pipeline.stacks.baseline_template import LAYER_ZIP, baseline_merge_template
from pipeline.stacks.logging_template import with_logs
from pipeline.stacks.merge import Template, combined, prefixed
from pipeline.stacks.safe_release import through_alias
from tenant_context.config import Env
from tenant_context.tenant_services import TENANT_SERVICES


def chalice_package(app_dir: Path, merge_template: dict[str, object], out_dir: Path) -> Path:
    """``chalice package`` of one app into ``out_dir`` (sam.json + deployment.zip)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    merge_file = out_dir.parent / f"{out_dir.name}.merge.json"
    merge_file.write_text(json.dumps(merge_template, indent=2))
    env = {Env.AWS_DEFAULT_REGION: "us-east-1", Env.AWS_EC2_METADATA_DISABLED: "true",
           Env.PYTHONPATH: source_path(), "PATH": str(Path(sys.executable).parent)}
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
    AppPart("shared_services", pooled.ADMIN, pooled.admin_merge_template, through_alias),
    *(AppPart(service.folder, pooled.pooled_prefix(service),
              functools.partial(pooled.pooled_service_merge_template, service), through_alias)
      for service in TENANT_SERVICES),
)
SILO_PARTS = tuple(
    AppPart(service.folder, silo.silo_prefix(service),
            functools.partial(silo.silo_service_merge_template, service), through_alias)
    for service in TENANT_SERVICES)
TEMPLATE_FILE = "template.json"


def code_digest(code: bytes, layer: bytes) -> str:
    """What a function runs: its own zip and the layer. SAM derives a function's version from
    its ``CodeUri`` alone unless told otherwise, so a release that changed only the layer (a
    fix in ``tenant_context``, PyJWT, cryptography) would publish no version and an alias would
    keep serving the old code while the stack reports success."""
    digest = hashlib.sha256(code)
    digest.update(layer)
    return digest.hexdigest()


def with_code_digests(template: Template, deployment_dir: Path, layer_zip: Path) -> Template:
    """Every function that publishes versions (``AutoPublishAlias``) gets its
    ``AutoPublishCodeSha256``: a new version, and so a canary, whenever its zip or the layer
    changes, and none when neither did."""
    layer = layer_zip.read_bytes()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and \
                "AutoPublishAlias" in properties:
            code = (deployment_dir / properties["CodeUri"]).read_bytes()
            properties["AutoPublishCodeSha256"] = code_digest(code, layer)
    return template


def package_deployment(name: str, parts: tuple[AppPart, ...], stack: Template,
                       out_dir: Path, layer_zip: Path) -> Path:
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
        rebuilt = rebuilt_function_zip(build_dir / "deployment.zip", build_dir / "reproducible")
        shutil.copy(rebuilt, deployment_dir / code)
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = f"./{code}"
        template = prefixed(template, part.prefix)
        templates.append(part.finish(template, part.prefix) if part.finish else template)
    template_file = deployment_dir / TEMPLATE_FILE
    template = with_code_digests(with_logs(combined(*templates, stack)), deployment_dir,
                                 layer_zip)
    template_file.write_text(json.dumps(template, indent=2))
    return template_file


def package(out_dir: Path) -> list[Path]:
    """The layer (once), the pooled stack and the silo stack of one Platinum tenant."""
    layer_zip = build_layer(out_dir / "layer")
    pooled_template = package_deployment("pooled", POOLED_PARTS,
                                         pooled.pooled_stack_resources(), out_dir, layer_zip)
    shutil.copy(layer_zip, pooled_template.parent / LAYER_ZIP)
    silo_template = package_deployment(
        "silo", SILO_PARTS, silo.silo_stack_resources(pooled.edge_routes(silo.silo_prefix)),
        out_dir, layer_zip)
    return [pooled_template, silo_template]

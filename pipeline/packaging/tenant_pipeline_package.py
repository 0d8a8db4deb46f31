"""``make package``'s third stack: the tenant pipeline
(``pipeline.stacks.tenant_pipeline_template``) beside the zip of its functions.

The functions run the deployer itself, so their zip holds the pipeline's deploying code (the
aws deployer, the rollout, the tenant mover and offboarder, the stacks' definitions and the
pipeline's own tasks), rebuilt reproducibly with its bytecode like every other function;
``tenant_context`` and Powertools come from the ONE layer, boto3 from the runtime, and
Chalice's runtime (``chalice/app.py``, which the layer's errors build on) is copied in as
``chalice package`` copies it into every app's zip.
What builds and runs things locally (packaging, the local cloud, the scaffold, the CLIs) is left
out.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import chalice
from chalice import app as chalice_app

from pipeline.packaging.reproducible_zip import FUNCTION_ROOT, reproducible_tree
from pipeline.project import PROJECT_ROOT
from pipeline.stacks.tenant_pipeline_template import FUNCTIONS_ZIP, pipeline_template

TEMPLATE_FILE = "template.json"
# The pipeline modules its functions import (checked by importing the handlers from the zip).
SHIPPED = ("__init__.py", "project.py", "aws_pipeline", "deploy/__init__.py", "deploy/aws",
           "lifecycle", "rollout", "stacks",
           # The offboarding's final invoice: billing events priced as the usage report does.
           "usage/__init__.py", "usage/billing_export.py", "usage/report_model.py")


def package_tenant_pipeline(out_dir: Path) -> Path:
    """``dist/cloudformation/tenant-pipeline/template.json`` and its functions' zip."""
    deployment_dir = out_dir / "cloudformation" / "tenant-pipeline"
    shutil.rmtree(deployment_dir, ignore_errors=True)
    deployment_dir.mkdir(parents=True)
    staging = out_dir / "build" / "tenant-pipeline"
    shutil.rmtree(staging, ignore_errors=True)
    source = PROJECT_ROOT / "pipeline"
    for shipped in SHIPPED:
        found = source / shipped
        target = staging / "pipeline" / shipped
        if found.is_dir():
            shutil.copytree(found, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(found, target)
    (staging / "chalice").mkdir()
    for module, name in ((chalice, "__init__.py"), (chalice_app, "app.py")):
        shutil.copy(str(module.__file__), staging / "chalice" / name)
    reproducible_tree(staging, FUNCTION_ROOT, deployment_dir / FUNCTIONS_ZIP.removeprefix("./"))
    template_file = deployment_dir / TEMPLATE_FILE
    template_file.write_text(json.dumps(pipeline_template(), indent=2))
    return template_file

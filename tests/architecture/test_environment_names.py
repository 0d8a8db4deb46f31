"""Every environment variable is named once: a member of ``tenant_context.config.Env``.

A name spelt anywhere else is a variable mypy cannot check (a typo reads as "not set"), so the
code outside ``config`` and the apps' stages must name variables through ``Env``: this reads
every string constant of the code (tests aside: they set variables the code reads) and every
key of the apps' Chalice stages.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env
from tenant_context.tenant_services import TENANT_SERVICES

NAMES = {variable.value for variable in Env}
TABLE_VARIABLES = {service.table_variable for service in TENANT_SERVICES}
CONFIG = PROJECT_ROOT / "layer" / "tenant_context" / "config.py"
APPS = ("authorizer", "shared_services", *(service.folder for service in TENANT_SERVICES))
CODE_FOLDERS = ("layer", *APPS, "pipeline", "benchmarks")


def code_files() -> list[Path]:
    return sorted(path for folder in CODE_FOLDERS for path in (PROJECT_ROOT / folder).rglob("*.py")
                  if path != CONFIG and "__pycache__" not in path.parts)


def spelt_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every string constant in ``path`` that is exactly a variable's name."""
    return [(node.lineno, node.value) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in NAMES]


def test_no_module_but_config_spells_a_variable_name() -> None:
    spelt = {str(path.relative_to(PROJECT_ROOT)): found for path in code_files()
             if (found := spelt_names(path))}
    assert spelt == {}


def test_the_check_finds_a_spelt_name(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text('import os\nregion = os.environ.get("AWS_REGION")\n')
    assert spelt_names(module) == [(2, "AWS_REGION")]


@pytest.mark.parametrize("app", APPS)
def test_every_variable_an_apps_stages_set_is_named_in_env(app: str) -> None:
    """...or is a registered tenant service's table variable (``table_variable``)."""
    config = json.loads((PROJECT_ROOT / app / ".chalice" / "config.json").read_text())
    stages = [config, *config.get("stages", {}).values()]
    names = {name for stage in stages for name in stage.get("environment_variables", {})}
    assert names
    assert names <= NAMES | TABLE_VARIABLES, sorted(names - NAMES - TABLE_VARIABLES)

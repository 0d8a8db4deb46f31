"""Loading the real Chalice apps in one test process, each with its own local stage.

Every app's module is called ``app``; each is imported under a unique name, and each app's
code lives in a uniquely named package under the namespace package ``chalicelib``, so the
apps do not shadow one another.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from chalice import Chalice
from chalice.test import Client

from pipeline.project import PROJECT_ROOT

_loaded: dict[str, Chalice] = {}
_modules: dict[str, Any] = {}  # the app modules loaded, by the same key

ClientFor = Callable[[str], Client]  # the ``client_for`` fixture: a test client per app folder


def local_stage_environment(directory: str, stage: str = "local") -> dict[str, str]:
    config = json.loads((PROJECT_ROOT / directory / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}),
            **config["stages"][stage].get("environment_variables", {})}


def load_app(directory: str, *, name: str | None = None,
             overrides: dict[str, str] | None = None) -> Chalice:
    """The app, imported as ``chalice local --stage local`` would (stage variables first).

    ``name`` and ``overrides`` load another instance of the same code under other settings
    (a Platinum tenant's silo deployment: its own tables, isolation mode and API id).
    """
    key = name or directory
    if key not in _loaded:
        app_dir = PROJECT_ROOT / directory
        os.environ.update({key: value for key, value in local_stage_environment(directory).items()
                           if not key.startswith("AWS_")})  # keep the session's emulator creds
        os.environ.update(overrides or {})
        if str(app_dir) not in sys.path:
            sys.path.insert(0, str(app_dir))
        spec = importlib.util.spec_from_file_location(f"{key}_app", app_dir / "app.py")
        assert spec
        assert spec.loader
        module: Any = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for variable in overrides or {}:
            os.environ.pop(variable, None)
        _loaded[key] = module.app
        _modules[key] = module
    return _loaded[key]


def loaded_module(key: str) -> Any:
    """The module ``load_app`` loaded under ``key`` (its ``platform``, for one)."""
    return _modules[key]


def flush_usage() -> None:
    """Writes what the loaded apps' usage meters hold, while the session's emulator is still
    the environment's: left for the interpreter's exit, it would go to the real endpoint."""
    for module in _modules.values():
        usage = getattr(getattr(module, "platform", None), "usage", None)
        if usage is not None:
            usage.flush()

"""Cold start: import time of each service's app module against a bare ``import boto3``,
each in a fresh interpreter, measured in the same run (median of several).

Measured as the app is configured in AWS (the shared authorizer referenced, not built in),
with tracing off and on. "On" is the environment the Lambda runtime gives a function
(``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``): only there do Powertools and the X-Ray SDK
trace, so only there is the Tracer built, the SDK imported and botocore patched. (Off Lambda the
SDK would set up sampling against a daemon, costs a function never pays.) Figures are printed,
not asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from pipeline.project import PROJECT_ROOT
from tenant_context.config import Env
from tenant_context.tenant_services import TENANT_SERVICES

REPEAT = 7
APPS = ("shared_services", *(service.folder for service in TENANT_SERVICES))
# What the Lambda runtime sets before a function's code is imported (tracing decides on it).
LAMBDA_RUNTIME: dict[str, str] = {Env.LAMBDA_TASK_ROOT: "/var/task",
                                   Env.AWS_EXECUTION_ENV: "AWS_Lambda_python3.11"}
_TIMER = ("import sys, time; sys.path.insert(0, '.'); start = time.perf_counter(); "
          "import {module}; print(time.perf_counter() - start)")


def import_seconds(module: str, cwd: str, env: dict[str, str]) -> float:
    """One fresh interpreter's time to import ``module``."""
    output = subprocess.run([sys.executable, "-c", _TIMER.format(module=module)], cwd=cwd,
                            env=env, capture_output=True, text=True, check=True).stdout
    return float(output)


def stage_environment(app: str) -> dict[str, str]:
    config = json.loads((PROJECT_ROOT / app / ".chalice" / "config.json").read_text())
    variables = config["stages"]["local"]["environment_variables"]
    return {key: value for key, value in variables.items()
            if key not in (Env.TENANT_AUTHORIZER, Env.LOCAL_GATEWAY_API_ID)}


def main() -> None:
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("AWS_LAMBDA", "POWERTOOLS", Env.LAMBDA_TASK_ROOT,
                                   Env.AWS_EXECUTION_ENV, Env.AWS_SAM_LOCAL, "AWS_CHALICE"))}
    cases = {"bare import boto3": ("boto3", str(PROJECT_ROOT), base)}
    for tracing in (False, True):
        for app in APPS:
            env = {**base, **stage_environment(app)}
            if tracing:
                env |= LAMBDA_RUNTIME | {Env.AWS_LAMBDA_FUNCTION_NAME: app}
            cases[f"{app} (tracing {'on' if tracing else 'off'})"] = (
                "app", str(PROJECT_ROOT / app), env)
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(REPEAT):  # round by round, so a busy moment weighs on every case alike
        for label, (module, cwd, env) in cases.items():
            samples[label].append(import_seconds(module, cwd, env))
    medians = {label: statistics.median(times) for label, times in samples.items()}
    boto3_seconds = medians.pop("bare import boto3")
    print(f"Cold start: app module import (median of {REPEAT} fresh interpreters)")
    print(f"  {'bare import boto3':<40} {boto3_seconds * 1000:7.1f} ms")
    for label, seconds in medians.items():
        print(f"  {label:<40} {seconds * 1000:7.1f} ms   {seconds / boto3_seconds:4.2f}x boto3")


if __name__ == "__main__":
    main()

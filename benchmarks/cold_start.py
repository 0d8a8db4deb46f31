"""Cold start: import time of each service's app module against a bare ``import boto3``,
each in a fresh interpreter, measured in the same run (median of several).

Measured as the app is configured in AWS (the shared authorizer referenced, not built in),
with tracing off and on: with tracing on, Powertools' Tracer imports the X-Ray SDK, which
builds botocore clients at import. Figures are printed, not asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from pipeline.local.paths import PROJECT_ROOT

REPEAT = 7
APPS = ("shared_services", "product_service", "order_service")
_TIMER = ("import sys, time; sys.path.insert(0, '.'); start = time.perf_counter(); "
          "import {module}; print(time.perf_counter() - start)")


def import_seconds(module: str, cwd: str, env: dict[str, str]) -> float:
    samples = []
    for _ in range(REPEAT):
        output = subprocess.run([sys.executable, "-c", _TIMER.format(module=module)], cwd=cwd,
                                env=env, capture_output=True, text=True, check=True).stdout
        samples.append(float(output))
    return statistics.median(samples)


def stage_environment(app: str) -> dict[str, str]:
    config = json.loads((PROJECT_ROOT / app / ".chalice" / "config.json").read_text())
    variables = config["stages"]["local"]["environment_variables"]
    return {key: value for key, value in variables.items()
            if key not in ("TENANT_AUTHORIZER", "LOCAL_GATEWAY_API_ID")}


def main() -> None:
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("AWS_LAMBDA", "POWERTOOLS"))}
    boto3_seconds = import_seconds("boto3", str(PROJECT_ROOT), base)
    print(f"Cold start: app module import (median of {REPEAT} fresh interpreters)")
    print(f"  {'bare import boto3':<40} {boto3_seconds * 1000:7.1f} ms")
    for tracing in (False, True):
        for app in APPS:
            env = {**base, **stage_environment(app)}
            if tracing:
                env["AWS_LAMBDA_FUNCTION_NAME"] = app
            seconds = import_seconds("app", str(PROJECT_ROOT / app), env)
            label = f"{app} (tracing {'on' if tracing else 'off'})"
            print(f"  {label:<40} {seconds * 1000:7.1f} ms   "
                  f"{seconds / boto3_seconds:4.2f}x boto3")


if __name__ == "__main__":
    main()

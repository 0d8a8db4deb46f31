"""Cold start of every packaged function, loaded as Lambda loads it, against bare ``import
boto3`` + one client, each in a fresh interpreter, in the same run (median of several).

``make package``'s output, built afresh: each function's zip and the layer unpacked into a
fresh folder, on the path of a clean interpreter that writes no bytecode (Lambda's disks are
read-only), with the function's template variables and the runtime's (so tracing is on, as
with ``Tracing: Active``). Each function twice: as packaged (with the bytecode the packaging
ships) and from sources only (what the zips held before they shipped bytecode: every module
compiled on every cold start). Nothing may be written into the unpacked copies; that is
checked. Figures are printed, not asserted.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from pathlib import Path

from pipeline.packaging.app_packages import package
from pipeline.stacks.baseline_template import LAYER_ZIP
from tests.support.lambda_runtime import (
    LambdaFunction,
    bare_boto3_seconds,
    functions,
    lambda_environment,
    runtime_packages,
    unpacked,
)
from tests.support.packaged import PARAMETERS

REPEAT = 7
DEPLOYMENT = "pooled"  # every app once: the authorizer, shared services, each tenant service


def without_bytecode(folder: Path) -> Path:
    for cache in sorted(folder.rglob("__pycache__")):
        shutil.rmtree(cache)
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        template_file = package(work / "dist")[0]
        runtime = runtime_packages(work / "runtime")
        layer = unpacked(work / "dist" / "layer" / LAYER_ZIP, work / "layer") / "python"
        bare_layer = without_bytecode(unpacked(work / "dist" / "layer" / LAYER_ZIP,
                                               work / "bare-layer")) / "python"
        template = json.loads(template_file.read_text())
        cases: dict[str, LambdaFunction] = {}
        for name, properties in functions(template):
            code = template_file.parent / properties["CodeUri"]
            environment = lambda_environment(properties, PARAMETERS[DEPLOYMENT])
            cases[f"{name} (as packaged)"] = LambdaFunction(
                unpacked(code, work / name), layer, runtime, properties["Handler"], environment)
            cases[f"{name} (sources only)"] = LambdaFunction(
                without_bytecode(unpacked(code, work / f"bare-{name}")), bare_layer, runtime,
                properties["Handler"], environment)
        before = {label: listing(case.code) + listing(case.layer)
                  for label, case in cases.items()}
        environment = next(iter(cases.values())).environment
        baseline: list[float] = []
        samples: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(REPEAT):  # round by round, so a busy moment weighs on every case alike
            baseline.append(bare_boto3_seconds(runtime, environment))
            for label, case in cases.items():
                samples[label].append(float(case.load()["seconds"]))
        written = [label for label, case in cases.items()
                   if listing(case.code) + listing(case.layer) != before[label]]
        if written:
            raise RuntimeError(f"loading wrote into the unpacked copies: {written}")
    boto3_seconds = statistics.median(baseline)
    print(f"Cold start: packaged functions loaded as Lambda loads them (median of {REPEAT} "
          "fresh interpreters)")
    print(f"  {'bare import boto3 + one client':<46} {boto3_seconds * 1000:7.1f} ms")
    for label, times in samples.items():
        seconds = statistics.median(times)
        print(f"  {label:<46} {seconds * 1000:7.1f} ms   {seconds / boto3_seconds:4.2f}x boto3")


if __name__ == "__main__":
    main()

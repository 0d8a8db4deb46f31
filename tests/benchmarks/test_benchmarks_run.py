"""Every benchmark of ``make bench`` runs to its printed figures, shrunk to seconds.

Each runs in a fresh interpreter, as ``make bench`` runs them: a benchmark points the process's
environment at its own emulator, which must not leak into the test session. Sizes are the
modules' own constants, set smaller before ``main``; what is printed is the same report.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from pipeline.project import PROJECT_ROOT

pytestmark = pytest.mark.platform
FIGURE = re.compile(r"p50 +[0-9.]+ ms|[0-9.]+ ms +[0-9.]+x boto3|[0-9.]+ min simulated"
                    r"|[0-9.]+ requests/s +direct|[0-9.]+ items/s")

# module -> (its sizes for a smoke run, a line its report must print)
SMOKE: dict[str, tuple[dict[str, object], str]] = {
    "bench_authorizer": ({"WARM_CALLS": 20, "COLD_CALLS": 2}, "warm path (all cached)"),
    "bench_front_door": ({"REQUESTS": 20}, "metered: authorizer + usage plan"),
    "bench_listing": ({"RUNS": 1, "CASES": ((30, 0),)}, "ours: all shards, all pages"),
    "bench_metering": ({"ROUNDS": 1, "REQUESTS_PER_ROUND": 4, "SEED_PRODUCTS": 2},
                       "metering on"),
    "bench_cold_start": ({"REPEAT": 1}, "(as packaged)"),
    "bench_registration": ({"RUNS": 2, "PLATINUM_RUNS": 1}, "Platinum registration"),
    "bench_rollout": ({"TENANTS": 6, "WAVES": {1: 1, 2: 2}, "STACK_SECONDS": 60.0},
                      "rollout (pooled + 3 waves)"),
    "bench_soak": ({"SOAK_REQUESTS": 100, "EVERY": 50, "THROUGHPUT_REQUESTS": 8},
                   "GET /products  concurrency"),
    "bench_tenant_move": ({"ITEMS": 200, "BASELINE_ITEMS": 50}, "ours: batched copy"),
}


@pytest.mark.parametrize("module", sorted(SMOKE))
def test_a_benchmark_prints_its_figures(module: str) -> None:
    sizes, expected = SMOKE[module]
    script = (f"import benchmarks.{module} as bench\n"
              + "".join(f"bench.{name} = {value!r}\n" for name, value in sizes.items())
              + "bench.main()\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if expected in line]
    assert lines, done.stdout
    assert all(FIGURE.search(line) for line in lines), lines


def test_make_bench_runs_every_benchmark() -> None:
    """``make bench`` (``benchmarks/__main__.py``) runs every module, and each is smoked here."""
    tree = ast.parse((PROJECT_ROOT / "benchmarks" / "__main__.py").read_text())
    run = {alias.name for node in ast.walk(tree)
           if isinstance(node, ast.ImportFrom) and node.module == "benchmarks"
           for alias in node.names}
    modules = {path.stem for path in (PROJECT_ROOT / "benchmarks").glob("bench_*.py")}
    assert run == modules == set(SMOKE)

"""Pooled registration end to end on the local platform (HTTP through the front door,
``chalice local``, the control plane, Cognito and DynamoDB in the emulator).

Baseline in the same run: GET /tenant/init of an existing tenant (the same HTTP path and two
DynamoDB reads), so the figure separates what registering costs from what any call costs.
Figures are printed, not asserted.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import requests

from benchmarks.bench_authorizer import report
from pipeline.local_cloud.platform_runner import running_platform
from pipeline.local_cloud.processes import free_port
from tests.support.signup_settings import MANY_SIGNUPS

RUNS = 20
PLATINUM_RUNS = 5  # each makes a user pool and a deployment: fewer


def main() -> None:
    with tempfile.TemporaryDirectory() as state, running_platform(
            Path(state), free_port(), free_port(), environment=MANY_SIGNUPS) as platform:
        session = requests.Session()
        url = f"{platform.admin_api}/registration"
        session.post(url, json={"tenantName": "Warm Up", "tenantEmail": "w@bench.example",
                                "tenantTier": "Basic"}, timeout=60).raise_for_status()
        lookups, pooled, platinum = [], [], []
        for run in range(RUNS):
            start = time.perf_counter()
            session.get(f"{platform.admin_api}/tenant/init/Warm Up",
                        timeout=60).raise_for_status()
            lookups.append(time.perf_counter() - start)
            start = time.perf_counter()
            response = session.post(url, timeout=60, json={
                "tenantName": f"Bench Pooled {run}", "tenantEmail": f"p{run}@bench.example",
                "tenantTier": ["Basic", "Standard", "Premium"][run % 3]})
            pooled.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
        for run in range(PLATINUM_RUNS):
            start = time.perf_counter()
            response = session.post(url, timeout=60, json={
                "tenantName": f"Bench Platinum {run}", "tenantEmail": f"x{run}@bench.example",
                "tenantTier": "Platinum"})
            platinum.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
        print("Registration over HTTP on the local platform")
        baseline = sorted(lookups)[len(lookups) // 2] * 1000
        report("baseline: GET /tenant/init", lookups)
        report("pooled registration", pooled, baseline)
        report("Platinum registration (own pool)", platinum, baseline)


if __name__ == "__main__":
    main()

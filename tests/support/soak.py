"""Sustained mixed traffic through a running platform, with the resources it costs sampled:
the emulator's memory (its process's resident set), the platform's (every process it lists)
and the recording's size. Shared by the soak test and ``make bench``'s soak.

The live state stays the same size: each cycle creates a product, reads it, lists the
tenant's products, replaces it and deletes it, and every few cycles a user signs in again
(Cognito's token bookkeeping). So anything that grows with the traffic is a leak, not data.
Requests go round-robin over a few Premium tenants: one tenant's plan (rate, daily quota)
would throttle a long run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from pipeline.local_cloud.platform_runner import RunningPlatform

MIB = 1024 * 1024
SIGN_IN_EVERY = 10  # cycles
REQUESTS_PER_CYCLE = 5


def resident_bytes(pid: int) -> int:
    """A process's resident set (``VmRSS``), 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class Sample:
    requests: int
    emulator: int  # bytes resident
    platform: int  # bytes resident, every process of the platform (the emulator included)
    recording: int  # bytes on disk

    def line(self) -> str:
        return (f"{self.requests:>7} requests  emulator {self.emulator / MIB:6.1f} MiB  "
                f"platform {self.platform / MIB:7.1f} MiB  "
                f"recording {self.recording / MIB:6.2f} MiB")


@dataclass
class Soak:
    platform: RunningPlatform
    tenants: int = 3
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (tenant name, user name)
    bearer: list[str] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)
    sent: int = 0

    @property
    def recording(self) -> Path:
        return self.platform.state_dir / "emulator" / "recording.jsonl"

    def sample(self) -> Sample:
        pids = {int(pid) for pid in self.platform.current_state()["pids"].values()}
        emulator = int(self.platform.state["pids"]["emulator"])
        return Sample(self.sent, resident_bytes(emulator),
                      sum(resident_bytes(pid) for pid in pids | {self.platform.state["pid"]}),
                      self.recording.stat().st_size)

    def register(self) -> None:
        for number in range(self.tenants):
            name = f"Soak {number}"
            response = self.session.post(
                f"{self.platform.admin_api}/registration", timeout=30,
                json={"tenantName": name, "tenantTier": "premium",
                      "tenantEmail": f"owner{number}@soak.example"})
            assert response.status_code == 201, response.text
            user = response.json()["tenantAdminUserName"]
            self.tokens.append((name, user))
            self.bearer.append(self.platform.token(user, name))

    def _send(self, method: str, path: str, token: str, json: Any = None) -> Any:
        response = self.session.request(method, f"{self.platform.pooled_api}{path}",
                                        json=json, timeout=30,
                                        headers={"Authorization": f"Bearer {token}"})
        self.sent += 1
        assert response.status_code in (200, 201, 204), (method, path, response.status_code,
                                                         response.text)
        return response.json() if response.content else None

    def cycle(self, number: int) -> None:
        which = number % len(self.bearer)
        if number % SIGN_IN_EVERY == SIGN_IN_EVERY - 1:
            name, user = self.tokens[which]
            self.bearer[which] = self.platform.token(user, name)
        token = self.bearer[which]
        product = {"name": f"soak {number}", "price": 1.5, "sku": f"S{number}",
                   "category": "soak"}
        created = self._send("POST", "/product", token, product)
        assert isinstance(created, dict), created
        key = created["key"]
        self._send("GET", f"/product/{key}", token)
        self._send("GET", "/products", token)
        self._send("PUT", f"/product/{key}", token, product | {"price": 2.5})
        self._send("DELETE", f"/product/{key}", token)

    def run(self, total: int, every: int, report: Callable[[Sample], None]) -> list[Sample]:
        """About ``total`` requests, sampled every ``every`` (and before the first)."""
        samples = [self.sample()]
        report(samples[0])
        number = 0
        while self.sent < total:
            self.cycle(number)
            number += 1
            if self.sent // every > samples[-1].requests // every:
                samples.append(self.sample())
                report(samples[-1])
        return samples

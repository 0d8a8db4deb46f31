"""``make bench``: a long soak of the running platform, then GET /products throughput.

Soak: mixed requests (create, read, list, replace, delete a product; a sign-in every few
cycles) over a live state that stays the same size, through the front door of a platform of
its own, the resources sampled every ``EVERY`` requests: the emulator's memory, the
platform's (every process it lists) and the recording's size. Target: flat after warm-up,
growth over the second half within 5% (the recording is compacted each time it doubled, so it
saws between the live state and twice that plus 1 MiB).

Throughput: GET /products at concurrency 1, 4 and 16 through the front door, next to the same
run's figures straight to the product service (``chalice local``'s own port, which then
authorizes the request itself): what the front door costs, in the same process and run.
Figures are printed, not asserted.
"""

from __future__ import annotations

import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from pipeline.local_cloud.platform_runner import RunningPlatform, running_platform
from pipeline.local_cloud.processes import free_port
from tests.support.soak import MIB, Sample, Soak

SOAK_REQUESTS = 10_000
EVERY = 2_000
TENANTS = 4  # round-robin: one Premium tenant's plan would throttle the run
THROUGHPUT_REQUESTS = 400  # per concurrency and path
CONCURRENCY = (1, 4, 16)
_SERVING = re.compile(r"Serving on (http://127\.0\.0\.1:\d+)")


def growth(samples: list[Sample]) -> str:
    """Over the second half of the soak: the change of each figure, in MiB and percent."""
    middle = next(sample for sample in samples if sample.requests >= samples[-1].requests // 2)
    last = samples[-1]
    figures = []
    for name in ("emulator", "platform", "recording"):
        before, after = getattr(middle, name), getattr(last, name)
        figures.append(f"{name} {(after - before) / MIB:+.2f} MiB "
                       f"({100 * (after - before) / max(before, 1):+.1f}%)")
    return "second half: " + ", ".join(figures)


def direct_url(platform: RunningPlatform) -> str:
    """The product service's own address, as ``chalice local`` printed it."""
    log = (platform.state_dir / "logs" / "product_service.log").read_text()
    found = _SERVING.findall(log)
    if not found:
        raise RuntimeError("the product service's log names no address")
    return str(found[-1])


def requests_per_second(url: str, tokens: list[str], concurrency: int) -> tuple[float, int]:
    """(requests/s, answers other than 200) for ``THROUGHPUT_REQUESTS`` listings."""
    def listing(number: int) -> int:
        return requests.get(f"{url}/products", timeout=30, headers={
            "Authorization": f"Bearer {tokens[number % len(tokens)]}"}).status_code

    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        statuses = list(pool.map(listing, range(THROUGHPUT_REQUESTS)))
        elapsed = time.perf_counter() - started
    return THROUGHPUT_REQUESTS / elapsed, sum(status != 200 for status in statuses)


def main() -> None:
    with tempfile.TemporaryDirectory() as state, running_platform(
            Path(state), free_port(), free_port()) as platform:
        soak = Soak(platform, tenants=TENANTS)
        soak.register()
        print(f"soak: {SOAK_REQUESTS} mixed requests through the front door, "
              f"{TENANTS} Premium tenants")
        started = time.perf_counter()
        samples = soak.run(SOAK_REQUESTS, EVERY, lambda sample: print("  " + sample.line()))
        elapsed = time.perf_counter() - started
        print(f"  {growth(samples)}; {soak.sent / elapsed:.0f} requests/s overall")
        direct = direct_url(platform)
        for concurrency in CONCURRENCY:
            front, refused = requests_per_second(platform.pooled_api, soak.bearer, concurrency)
            alone, refused_direct = requests_per_second(direct, soak.bearer, concurrency)
            print(f"GET /products  concurrency {concurrency:>2}  front door {front:7.1f} "
                  f"requests/s  direct {alone:7.1f} requests/s  ({front / alone:.2f}x)"
                  + (f"  [not 200: {refused} / {refused_direct}]"
                     if refused or refused_direct else ""))


if __name__ == "__main__":
    main()

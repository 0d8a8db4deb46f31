"""``make bench``: every benchmark, one after the other (each prints its figures)."""

from benchmarks import (
    bench_authorizer,
    bench_cold_start,
    bench_front_door,
    bench_listing,
    bench_metering,
    bench_registration,
    bench_rollout,
    bench_soak,
    bench_tenant_move,
)

for benchmark in (bench_authorizer, bench_front_door, bench_listing, bench_metering,
                  bench_cold_start, bench_registration, bench_rollout, bench_soak,
                  bench_tenant_move):
    benchmark.main()
    print()

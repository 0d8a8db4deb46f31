"""``make bench``: every benchmark, one after the other (each prints its figures)."""

from benchmarks import authorizer, cold_start, front_door, listing, registration

for benchmark in (authorizer, front_door, listing, cold_start, registration):
    benchmark.main()
    print()

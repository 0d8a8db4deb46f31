"""``make bench``: every benchmark, one after the other (each prints its figures)."""

from benchmarks import authorizer, cold_start, listing, registration

for benchmark in (authorizer, listing, cold_start, registration):
    benchmark.main()
    print()

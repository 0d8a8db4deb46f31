"""``make bench``: every benchmark, one after the other (each prints its figures)."""

from benchmarks import authorizer, registration

authorizer.main()
print()
registration.main()

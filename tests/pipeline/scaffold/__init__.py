"""``make new-service`` (``pipeline.scaffold``) on temporary copies of the files it needs:
arguments refused with nothing written, what it writes, all or nothing."""

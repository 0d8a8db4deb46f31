"""``python -m pipeline.local_cloud``: ``make local`` (``pipeline.local_cloud.local_platform``)."""

from pipeline.local_cloud.local_platform import main

main()

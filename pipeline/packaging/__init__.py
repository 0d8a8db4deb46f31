"""``make layer`` and ``make package`` (``python -m pipeline.packaging``): the aws artifacts.

- ``layer_zip``: ``tenant_context`` and its pinned dependencies as ONE layer zip;
- ``app_packages``: ``chalice package`` of every app, joined into one stack per deployment.
"""

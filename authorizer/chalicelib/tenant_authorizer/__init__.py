"""The tenant Lambda authorizer: verifies the caller's token against the tenant's KNOWN pool,
decides the routes the caller's role may use on the API being called, and vends credentials
scoped to the tenant.

First-party code of the ``authorizer`` Chalice app, so it lives where every app of ours keeps
its own code: ``chalicelib/``, which Chalice packages with the app, under a package name no
other app uses (``chalicelib`` is a namespace shared by the apps). Locally the virtualenv has
``authorizer/`` on its path, so the local stand-in for API Gateway
(``pipeline.local_cloud.api_gateway.builtin_authorizer``) runs this same code in-process in
every app's local stage: one authorizer, two worlds.

Modules: ``handler`` (the Lambda entry point) -> ``factory`` (builds it from configuration) ->
``authorizer`` (the one decision) using ``tokens`` (the caller, verified), ``route_rules``
(what its role may call), ``credential_vendor`` (scoped STS credentials) and ``directory``
(cached control-plane records, ``ttl_cache``); ``unauthorized`` is its one way to say no.
"""

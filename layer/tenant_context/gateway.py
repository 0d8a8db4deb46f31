"""How an app's routes are authorized: by the ONE shared tenant authorizer, in both worlds.

In AWS (the default) routes name a ``CustomAuthorizer``: the shared authorizer Lambda, whose
invocation URI the packaged template fills in (``AUTHORIZER_URI_PLACEHOLDER`` is replaced by a
CloudFormation reference). Locally, configuration (``TENANT_AUTHORIZER=builtin``, set only in
the ``local`` stage) registers the very same function as a built-in Chalice authorizer, because
``chalice local`` runs no other kind. Nothing else differs; there is no bypass.
"""

from __future__ import annotations

from typing import Any

from chalice import Chalice, CustomAuthorizer

from tenant_context.config import PlatformConfig

AUTHORIZER_NAME = "TenantAuthorizer"
AUTHORIZER_TTL_SECONDS = 60  # API Gateway's per-token cache of the authorizer's policy
AUTHORIZER_URI_PLACEHOLDER = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:tenant-authorizer/invocations")


def tenant_authorizer(app: Chalice, config: PlatformConfig) -> Any:
    if config.optional("TENANT_AUTHORIZER") == "builtin":
        # Local stage only; this import never happens in a Lambda function.
        from tenant_authorizer.local_gateway import register_builtin_authorizer

        return register_builtin_authorizer(app, config.require("LOCAL_GATEWAY_API_ID"))
    return CustomAuthorizer(AUTHORIZER_NAME, header="Authorization",
                            authorizer_uri=AUTHORIZER_URI_PLACEHOLDER,
                            ttl_seconds=AUTHORIZER_TTL_SECONDS)

"""The ONE tenant Lambda authorizer, shared by every API of every deployment.

Deployed once (pooled baseline); each API's routes reference it as a ``CustomAuthorizer``.
All logic lives in ``chalicelib/tenant_authorizer`` (packaged with the app by Chalice).
"""

from typing import Any

from chalice import Chalice

from chalicelib.tenant_authorizer.handler import handle

app = Chalice(app_name="tenant-authorizer")


@app.lambda_function(name="tenant_authorizer")
def tenant_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)

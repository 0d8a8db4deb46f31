"""A genuine fault inside a view (a dependency failing in a way no module expects) answers a
500 in the contract's shape: JSON ``{"message": ...}`` with CORS headers, nothing internal.

Chalice's view wrapper turns any exception that is not a ``ChaliceUnhandledError`` into its own
500 ``{"Code", "Message"}`` (no JSON Content-Type) before middleware sees it;
``tenant_context.service.responses.error_middleware`` rewrites that answer.
"""

from __future__ import annotations

from tests.support.admin_api_client import AdminApi
from tests.support.control_plane_parts import Failing
from tests.support.serving import replacing, served_with


def test_a_fault_inside_a_view_answers_the_contracts_500(admin_api: AdminApi,
                                                         emulator_url: str) -> None:
    failing = replacing(emulator_url, "dynamodb", lambda client: Failing(client, "get_item"))
    with served_with(failing):
        response = admin_api.call("GET", "/tenant/init/Any Name")
    assert response.status_code == 500
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers.get("Content-Type") == "application/json"
    assert response.json_body == {"message": "Internal server error"}

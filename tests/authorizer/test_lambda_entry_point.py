"""The Lambda function itself (``authorizer/app.py``), invoked as API Gateway invokes it.

Every other authorizer test calls ``TenantAuthorizer.authorize`` on an instance the test built.
This one goes through the deployed entry point: the Chalice ``@app.lambda_function`` wrapper,
the handler that builds the authorizer from the function's environment on the first event, and
the error contract API Gateway depends on (a failure whose message is exactly ``Unauthorized``
is a 401; any other failure is a 500).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.tenant_authorizer import handler
from chalicelib.tenant_authorizer.factory import pool_environment
from chalicelib.tenant_authorizer.unauthorized import Unauthorized
from pipeline.local_cloud.provisioning.baseline_bootstrap import BaselineResult
from tenant_context.tenancy import Role
from tests.support.chalice_apps import load_app, local_stage_environment
from tests.support.moto_server import ACCOUNT, REGION
from tests.support.world import World

POOLED_PRODUCT_API = "pooled-product"


def api_gateway_token_event(header: str, api_id: str = POOLED_PRODUCT_API,
                            method: str = "GET", path: str = "products") -> dict[str, Any]:
    """What API Gateway sends a TOKEN authorizer (Chalice's ``CustomAuthorizer``)."""
    return {"type": "TOKEN", "authorizationToken": header,
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/api/{method}/{path}"}


LAMBDA_CONTEXT = types.SimpleNamespace(
    function_name="tenant-authorizer", memory_limit_in_mb=512, aws_request_id="test-request",
    invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tenant-authorizer")


@pytest.fixture
def entry_point(baseline: BaselineResult, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The function as Lambda imports it, cold: the environment is the authorizer's own stage
    (as its template sets it) over the session's emulator settings, plus the pools its
    template's Refs give it (here the baseline's own pools, as the local stand-in sets them)."""
    settings = baseline.settings
    for variable, value in pool_environment(settings.operations_pool,
                                            settings.pooled_pool).items():
        monkeypatch.setenv(variable, value)
    app = load_app("authorizer")
    assert set(local_stage_environment("authorizer")) - {"AWS_DEFAULT_REGION"}
    handler._authorizer = None  # a cold start: built from the environment on the first event
    function = app.pure_lambda_functions[0]  # the @app.lambda_function wrapper
    assert function.name == "tenant_authorizer"
    yield function
    handler._authorizer = None


def test_a_valid_token_gets_an_allow_policy_with_string_context(entry_point: Any,
                                                                 world: World) -> None:
    tenant = world.pooled_tenant()
    token = world.id_token(world.tenant_user(tenant, Role.TENANT_USER))
    response = entry_point(api_gateway_token_event(f"Bearer {token}"), LAMBDA_CONTEXT)
    assert handler._authorizer is not None  # built by the handler, from the environment
    statements = response["policyDocument"]["Statement"]
    assert any(statement["Effect"] == "Allow" and
               statement["Action"] == "execute-api:Invoke" and
               any(resource.startswith(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:"
                                       f"{POOLED_PRODUCT_API}/api/")
                   for resource in statement["Resource"])
               for statement in statements), statements
    context = response["context"]
    assert context["tenantId"] == tenant.tenant_id
    assert context["userRole"] == "TenantUser"
    assert all(isinstance(value, str) for value in context.values()), context
    assert response["principalId"].endswith(f"/{context['userName']}")
    assert response["usageIdentifierKey"] == tenant.record.api_key


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer not-a-jwt", "Basic abc",
                                    "Bearer eyJhbGciOiJub25lIn0.e30."])
def test_a_bad_token_fails_with_exactly_unauthorized(entry_point: Any, header: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(Exception) as failure:  # noqa: PT011 - the type is not the contract
        entry_point(api_gateway_token_event(header), LAMBDA_CONTEXT)
    assert str(failure.value) == "Unauthorized"  # Lambda reports this as errorMessage
    # The reason goes to the log (for the operator), never into the answer (for the caller).
    logged = [record for record in caplog.records
              if record.getMessage() == "request not authorized"]
    assert len(logged) == 1
    assert getattr(logged[0], "reason", "")
    assert getattr(logged[0], "reason", "") not in str(failure.value)


def test_an_event_without_method_arn_is_a_401_not_a_500(entry_point: Any,
                                                        world: World) -> None:
    token = world.id_token(world.operations_user())
    for event in ({"type": "TOKEN", "authorizationToken": f"Bearer {token}"},
                  {"type": "TOKEN"}, {}):
        with pytest.raises(Exception) as failure:  # noqa: PT011
            entry_point(event, LAMBDA_CONTEXT)
        assert str(failure.value) == "Unauthorized"


def test_a_refusal_is_logged_as_info_and_an_unexpected_failure_as_error(
        caplog: pytest.LogCaptureFixture) -> None:
    """The release's rollback alarm counts the authorizer's ERROR lines (a refusal is a Lambda
    error too, so Lambda's own Errors cannot tell them apart): every bad token must stay
    below ERROR, and a failure of the authorizer itself must reach it."""
    class Broken:
        def authorize(self, event: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("the directory table is gone")

    class Refusing:
        def authorize(self, event: dict[str, Any]) -> dict[str, Any]:
            raise Unauthorized("expired token")

    with pytest.raises(RuntimeError):
        handler.handle({}, Broken())  # type: ignore[arg-type]
    with pytest.raises(Unauthorized):
        handler.handle({}, Refusing())  # type: ignore[arg-type]
    levels = {record.getMessage(): record.levelname for record in caplog.records}
    assert levels == {"the authorizer failed": "ERROR", "request not authorized": "INFO"}

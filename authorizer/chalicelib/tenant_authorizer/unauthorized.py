"""How the authorizer says no.

API Gateway answers 401 when a Lambda authorizer fails with exactly the message
``Unauthorized``; anything else it reports as a 500. A denied route (403) is not an error: the
returned policy simply does not allow it.
"""


class Unauthorized(Exception):  # noqa: N818 - named after the API Gateway contract
    def __init__(self, reason: str) -> None:
        super().__init__("Unauthorized")
        self.reason = reason  # logged, never returned (it would help an attacker)


class TenantDeactivated(Unauthorized):
    """The caller's tenant is deactivated: its cached credentials are dropped too."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id} is deactivated")
        self.tenant_id = tenant_id

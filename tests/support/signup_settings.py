"""Sign-up limits for suites that register many tenants from one address in minutes (every
local caller is 127.0.0.1): raised through the very variables ``make local`` reads, never by
switching the limits off in code."""

from __future__ import annotations

from tenant_context.config import Env

MANY_SIGNUPS: dict[str, str] = {  # keys: Env members
    Env.SIGNUP_RATE_PER_ADDRESS: "100000",
    Env.SIGNUP_RATE_TOTAL: "100000",
    # In-process tests have no deployer: their Platinum rows stay provisioning for the session.
    Env.PENDING_PLATINUM_CAP: "100000",
}

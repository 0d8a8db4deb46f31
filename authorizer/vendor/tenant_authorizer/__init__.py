"""The tenant Lambda authorizer: verifies the caller's token against the tenant's KNOWN pool,
decides the routes the caller's role may use on the API being called, and vends credentials
scoped to the tenant.

This package sits in ``authorizer/vendor/`` because Chalice bundles ``vendor/`` at the root of
the function's zip, while the other apps' local stage imports the same package from the
virtualenv (see ``tenant_authorizer.local_gateway``): one authorizer, two worlds.
"""

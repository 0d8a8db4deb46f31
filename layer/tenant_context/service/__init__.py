"""What every service function runs per request: the tenant API's and the admin API's runtime.

The data path of one request reads top-down through these modules: ``chalice_app`` (the app a
service starts from: middleware, the route authorizer from ``route_authorizer``) -> ``context``
(who is calling, from the authorizer's context) -> ``validation`` (the body as a typed value)
-> ``item_resource`` (the tenant API's handlers) -> ``tenant_items`` + ``sharding`` (a tenant's
versioned, sharded items) -> ``tenant_tables`` (scoped credentials and the key guard) ->
DynamoDB; on the way out ``responses`` (errors and CORS) and ``observability`` (the tenant on
every log line and metric).
"""

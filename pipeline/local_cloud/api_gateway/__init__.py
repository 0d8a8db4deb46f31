"""API Gateway's part, played locally: ``front_door`` (one base URL per deployment, gateway
responses with CORS), ``builtin_authorizer`` (the shared authorizer run in-process by each app's
local stage), ``authorization`` (the authorizer asked before a route, for its usage key) and
``usage_plans`` (the tier plans' throttles and quotas)."""

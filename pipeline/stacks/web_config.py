"""What the three Angular web apps need from a deployment, under the keys they read.

The apps are configured by hand-edited files (``../shared/spec/api-contract.md``, "How the web
apps are configured"), so the values are grouped the way a person types them in: by app, then
by the app's own file, then by the exact key that file holds. ``make local`` prints them and
``make web-config`` writes them as JSON, on either target, from one description, so the two
can never name a key differently. On AWS every value but the region and Cognito's endpoint is
an output of the pooled stack (``POOLED_OUTPUTS``); locally the running platform knows them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SIGN_UP, ADMIN_CONSOLE, TENANT_APP = "signUp", "adminConsole", "tenantApp"
ENVIRONMENT, AWS_EXPORTS = "environment.ts", "aws-exports.ts"
# The tenant app builds its Amplify configuration at run time in this file
# (``configureAmplifyAuth()``); pointing it at another Cognito is a line added there.
TENANT_AUTH_CONFIGURATION = "auth-configuration.service.ts"
ENDPOINT = "endpoint"  # under ``Auth``: Amplify v4's one setting for another Cognito
# The pooled stack's outputs each value comes from on AWS (region and endpoint: the stack's
# region, whose Cognito is Amplify's default).
POOLED_OUTPUTS = {
    "admin_api_url": "AdminApiUrl",
    "operations_user_pool_id": "OperationsUserPoolId",
    "operations_app_client_id": "OperationsUserPoolClientId",
}
# What each app's people call it, for ``make local``'s summary.
APP_LABELS = {SIGN_UP: "sign-up page", ADMIN_CONSOLE: "admin console", TENANT_APP: "tenant app"}


def aws_cognito_endpoint(region: str) -> str:
    """Cognito's own endpoint in a region: what Amplify calls when given none."""
    return f"https://cognito-idp.{region}.amazonaws.com/"


@dataclass(frozen=True)
class WebConfig:
    """The values, whichever target they come from."""

    admin_api_url: str
    region: str
    operations_user_pool_id: str
    operations_app_client_id: str
    cognito_endpoint: str | None = None  # None: not known (yet); the key is left out

    def by_app(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{app: {file: {key: value}}}``: the JSON ``make web-config`` writes. The tenant
        app's pool, client and tenant API URL are not here: it asks ``GET /tenant/init/{name}``
        for them at sign-in, per tenant."""
        auth = {"Auth": {ENDPOINT: self.cognito_endpoint}} if self.cognito_endpoint else {}
        return {
            SIGN_UP: {ENVIRONMENT: {"apiGatewayUrl": self.admin_api_url}},
            ADMIN_CONSOLE: {
                ENVIRONMENT: {"apiUrl": self.admin_api_url},
                AWS_EXPORTS: {"aws_project_region": self.region,
                              "aws_cognito_region": self.region,
                              "aws_user_pools_id": self.operations_user_pool_id,
                              "aws_user_pools_web_client_id": self.operations_app_client_id,
                              **auth}},
            TENANT_APP: {
                ENVIRONMENT: {"regApiGatewayUrl": self.admin_api_url, "region": self.region},
                **({TENANT_AUTH_CONFIGURATION: auth} if auth else {})},
        }

    def lines(self) -> list[str]:
        """The same values for a terminal: app, file, key (nested keys dotted) and value."""
        rows: list[tuple[str, str, str, str]] = []
        for app, files in self.by_app().items():
            for file, keys in files.items():
                for key, value in leaves(keys):
                    rows.append((APP_LABELS[app], file, key, str(value)))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        shown, previous = [], ("", "")
        for app, file, key, value in rows:
            where = (app if app != previous[0] else "",
                     file if (app, file) != previous else "")
            previous = (app, file)
            shown.append(f"  {where[0]:<{widths[0]}}  {where[1]:<{widths[1]}}  "
                         f"{key:<{widths[2]}}  {value}")
        return shown


def leaves(keys: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every value of a nested mapping with its dotted key (``Auth.endpoint``)."""
    for key, value in keys.items():
        if isinstance(value, Mapping):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value

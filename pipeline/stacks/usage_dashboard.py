"""The pooled stack's usage dashboard (``AWS::CloudWatch::Dashboard``): per-tier views and top
tenants, what an operator reads at a glance on AWS.

Its cost stays flat in the number of tenants: it adds no metric, it reads the metrics AWS keeps
anyway (API Gateway per API and stage, Lambda per function, DynamoDB per table, none per
tenant) and queries logs (Logs Insights, billed per query's scanned bytes) for everything per
tenant. So:

- per tier: requests, 4xx/5xx and 429s by the ``tier`` the authorizer put in every access log
  line (pooled tiers share the pooled APIs, so API Gateway's metrics cannot split them); API
  Gateway's ``Count``, ``4XXError`` and ``5XXError`` per pooled API (its 429s are among the
  4xx: API Gateway has no metric of their own), and for the Platinum tier the same metrics
  summed over every silo's APIs (a SEARCH expression on their names, ``<app>-<tenant id>``:
  one line per service, never one per tenant); Lambda ``Duration`` (p50, p99) and
  ``Throttles`` per function and DynamoDB consumed read and write units per table, of this
  stack;
- top tenants: Logs Insights over the access logs (requests and 429s by ``tenantId``) and over
  the services' own JSON log lines, which name the tenant each handled event concerned
  (``target_tenant_id``; ``tenant_context.service.observability``).

Silo stacks' log groups are not in the queries: a widget names its groups one by one (at most
50), which would need the dashboard to change with each Platinum tenant. Their 429s reach the
usage table all the same (``access-log-usage``).

The body is built here as data and rendered with ``json.dumps`` into ONE ``Fn::Sub``: region,
stack name and function names are substituted by CloudFormation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.stacks.logging_template import access_log_group_name, log_group_name
from pipeline.stacks.merge import Template
from pipeline.stacks.safe_release import STAGE
from tenant_context.platform.definitions import PLATFORM

DASHBOARD = "UsageDashboard"
PERIOD_SECONDS = 300
TOP = 10
REGION = "${AWS::Region}"
THROTTLED = '"429"'  # the access log line's status, a JSON string

Widget = dict[str, Any]


@dataclass(frozen=True)
class DashboardApi:
    """A REST API of the stack: its logical id (which names its access log group) and its name
    in API Gateway (which names its metrics)."""

    logical_id: str
    name: str


def _text(markdown: str) -> Widget:
    return {"type": "text", "width": 24, "height": 2, "properties": {"markdown": markdown}}


def _metrics(title: str, metrics: list[list[Any]], stat: str = "Sum") -> Widget:
    return {"type": "metric", "width": 8, "height": 6, "properties": {
        "title": title, "region": REGION, "stat": stat, "period": PERIOD_SECONDS,
        "view": "timeSeries", "metrics": metrics}}


def _logs(title: str, groups: Sequence[str], query: str) -> Widget:
    sources = " | ".join(f"SOURCE '{group}'" for group in groups)
    return {"type": "log", "width": 12, "height": 6, "properties": {
        "title": title, "region": REGION, "view": "table", "query": f"{sources} | {query}"}}


def _silo_sum(app_name: str, metric: str, index: int) -> list[Any]:
    """One line: ``metric`` summed over every silo's API of the app (``<app>-<tenant id>``),
    the pooled API (named exactly ``<app>``) left out."""
    search = (f"SEARCH('{{AWS/ApiGateway,ApiName,Stage}} MetricName=\"{metric}\" "
              f"Stage=\"{STAGE}\" ApiName={app_name} NOT ApiName=\"{app_name}\"', 'Sum', "
              f"{PERIOD_SECONDS})")
    return [{"expression": f"SUM({search})", "label": f"{app_name} (Platinum)",
             "id": f"platinum{index}"}]


def widgets(apis: Sequence[DashboardApi], functions: Sequence[str],
            service_functions: Sequence[str], tables: Sequence[str],
            silo_api_names: Sequence[str]) -> list[Widget]:
    """The dashboard's widgets, in reading order (CloudWatch lays them out left to right)."""
    access_logs = [access_log_group_name(api.logical_id) for api in apis]
    service_logs = [log_group_name(function) for function in service_functions]
    api_metric = {metric: [["AWS/ApiGateway", metric, "ApiName", api.name, "Stage", STAGE]
                           for api in apis] for metric in ("Count", "4XXError", "5XXError")}
    return [
        _text(f"# {PLATFORM}: usage per tier and top tenants\nPer tenant figures come from "
              "logs (and the usage table), never from per-tenant metrics."),
        _logs("Requests by tier", access_logs,
              "stats count(*) as requests by tier | sort requests desc"),
        _logs("4xx and 5xx by tier", access_logs,
              "filter status like /^[45]/ | stats count(*) as answers by tier, status "
              "| sort answers desc"),
        _logs("429s by tier", access_logs,
              f"filter status = {THROTTLED} | stats count(*) as throttled by tier "
              "| sort throttled desc"),
        _metrics("Pooled tiers: requests per API", api_metric["Count"]),
        _metrics("Pooled tiers: 4xx (429s included) per API", api_metric["4XXError"]),
        _metrics("Pooled tiers: 5xx per API", api_metric["5XXError"]),
        *(_metrics(f"Platinum tier: {metric} of every silo", [
            _silo_sum(name, metric, index) for index, name in enumerate(silo_api_names)])
          for metric in ("Count", "4XXError", "5XXError")),
        _metrics("Lambda duration p50 per function", [
            ["AWS/Lambda", "Duration", "FunctionName", f"${{{function}}}"]
            for function in functions], stat="p50"),
        _metrics("Lambda duration p99 per function", [
            ["AWS/Lambda", "Duration", "FunctionName", f"${{{function}}}"]
            for function in functions], stat="p99"),
        _metrics("Lambda throttles per function", [
            ["AWS/Lambda", "Throttles", "FunctionName", f"${{{function}}}"]
            for function in functions]),
        _metrics("DynamoDB consumed read units per table", [
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table]
            for table in tables]),
        _metrics("DynamoDB consumed write units per table", [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table]
            for table in tables]),
        _logs("Top tenants by requests", access_logs,
              f"stats count(*) as requests by tenantId | sort requests desc | limit {TOP}"),
        _logs("Top tenants by 429s", access_logs,
              f"filter status = {THROTTLED} | stats count(*) as throttled by tenantId "
              f"| sort throttled desc | limit {TOP}"),
        _logs("Top tenants by handled events (services' logs)", service_logs,
              "filter ispresent(target_tenant_id) | stats count(*) as events by "
              f"target_tenant_id | sort events desc | limit {TOP}"),
    ]


def usage_dashboard(apis: Sequence[DashboardApi], functions: Sequence[str],
                    service_functions: Sequence[str], tables: Sequence[str],
                    silo_api_names: Sequence[str]) -> Template:
    """The dashboard resource: ``functions`` are logical ids (their names substituted),
    ``service_functions`` those whose log lines name tenants, ``tables`` table names, and
    ``silo_api_names`` the app names a Platinum tenant's API names start with."""
    body = {"widgets": widgets(apis, functions, service_functions, tables, silo_api_names)}
    return {"Resources": {DASHBOARD: {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        # Dashboards are global to the account: the region keeps two regions' apart.
        "DashboardName": {"Fn::Sub": f"{PLATFORM}-usage-${{AWS::Region}}"},
        "DashboardBody": {"Fn::Sub": json.dumps(body, separators=(",", ":"))},
    }}}}

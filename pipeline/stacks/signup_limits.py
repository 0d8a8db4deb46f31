"""The pooled stack's sign-up limits on AWS: an opt-in WAF web ACL on the admin API's stage.

Anonymous ``POST /registration`` creates a Cognito group or a whole user pool and a stack, so
a script could use up the account's Cognito quotas. Two rate-based rules, scoped down to
``POST .../registration``: per client address (``AggregateKeyType: IP``) and for every address
together (``CONSTANT``), each over ``SignupRateWindowSeconds``; past either, WAF answers 429
``{"message": "Too Many Requests"}`` with ``Retry-After`` (the window: WAF cannot say sooner)
and CORS headers, so the request never reaches API Gateway or the function. The local front
door applies the same limits (``pipeline.local_cloud.api_gateway.signup_limits``).

Opt-in (``SignupWaf=enabled``) because WAF is billed: a web ACL and each rule by the month,
plus every request it inspects (every request to the admin API, not only sign-ups). The limits
are parameters with the defaults ``tenant_context.config`` documents; WAF's least limit is 10
per window, and its windows are 60, 120, 300 and 600 s. The cap on pending Platinum
provisionings is the admin function's (``PendingPlatinumCap``), enforced by registration
itself, WAF or not.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.stacks import cloudformation as cfn
from pipeline.stacks.merge import Template
from pipeline.stacks.service_template import REST_API
from tenant_context.config import (
    DEFAULT_PENDING_PLATINUM_CAP,
    DEFAULT_SIGNUP_RATE_PER_ADDRESS,
    DEFAULT_SIGNUP_RATE_TOTAL,
    DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
)
from tenant_context.platform.definitions import PLATFORM
from tenant_context.service.responses import cors_headers

SIGNUP_WAF = "SignupWaf"  # the parameter: enabled | disabled
SIGNUP_WAF_ENABLED = "SignupWafEnabled"  # the condition
SIGNUP_RATE_PER_ADDRESS = "SignupRatePerAddress"
SIGNUP_RATE_TOTAL = "SignupRateTotal"
SIGNUP_RATE_WINDOW = "SignupRateWindowSeconds"
PENDING_PLATINUM_CAP = "PendingPlatinumCap"
WAF_WINDOWS = (60, 120, 300, 600)  # WAF's evaluation windows
WAF_MIN_LIMIT = 10  # WAF's least rate limit per window
WAF_MAX_LIMIT = 2_000_000_000
WEB_ACL = "SignupWebAcl"
WEB_ACL_ASSOCIATION = "SignupWebAclAssociation"
THROTTLED_BODY = "TooManySignups"


def parameters() -> dict[str, Any]:
    def limit(default: int, what: str) -> dict[str, Any]:
        return {"Type": "Number", "Default": default, "MinValue": WAF_MIN_LIMIT,
                "MaxValue": WAF_MAX_LIMIT, "Description": f"POST /registration {what} per "
                                                          f"window, at most (the WAF's)"}

    return {
        SIGNUP_WAF: {"Type": "String", "AllowedValues": ["enabled", "disabled"],
                     "Default": "disabled",
                     "Description": "enabled: a WAF web ACL (billed) limits sign-ups on the "
                                    "admin API"},
        SIGNUP_RATE_PER_ADDRESS: limit(DEFAULT_SIGNUP_RATE_PER_ADDRESS, "per client address"),
        SIGNUP_RATE_TOTAL: limit(DEFAULT_SIGNUP_RATE_TOTAL, "from every address together"),
        SIGNUP_RATE_WINDOW: {"Type": "Number", "Default": DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
                             "AllowedValues": list(WAF_WINDOWS),
                             "Description": "The sign-up limits' window in seconds"},
        PENDING_PLATINUM_CAP: {"Type": "Number", "Default": DEFAULT_PENDING_PLATINUM_CAP,
                               "MinValue": 1, "Description": "Platinum deployments still "
                               "provisioning at most; a Platinum sign-up past it gets 429"},
    }


def _sign_up() -> dict[str, Any]:
    """POST to .../registration (the stage's name leads the path WAF sees)."""
    def matches(field: dict[str, Any], text: str, position: str) -> dict[str, Any]:
        return {"ByteMatchStatement": {
            "FieldToMatch": field, "PositionalConstraint": position, "SearchString": text,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}

    return {"AndStatement": {"Statements": [
        matches({"Method": {}}, "POST", "EXACTLY"),
        matches({"UriPath": {}}, "/registration", "ENDS_WITH")]}}


def _rule(name: str, priority: int, aggregate: str, limit_parameter: str) -> dict[str, Any]:
    headers = {"Retry-After": cfn.ref(SIGNUP_RATE_WINDOW), **cors_headers()}
    return {
        "Name": name, "Priority": priority,
        "Statement": {"RateBasedStatement": {
            "Limit": cfn.ref(limit_parameter), "AggregateKeyType": aggregate,
            "EvaluationWindowSec": cfn.ref(SIGNUP_RATE_WINDOW),
            "ScopeDownStatement": _sign_up()}},
        "Action": {"Block": {"CustomResponse": {
            "ResponseCode": 429, "CustomResponseBodyKey": THROTTLED_BODY,
            "ResponseHeaders": [{"Name": header, "Value": value}
                                for header, value in headers.items()]}}},
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                             "MetricName": f"{PLATFORM}-{name}"},
    }


def signup_limits(admin_api: str = f"Admin{REST_API}") -> Template:
    """Parameters, the condition, and the web ACL on the admin API's stage (only when
    enabled)."""
    web_acl = {"Type": "AWS::WAFv2::WebACL", "Condition": SIGNUP_WAF_ENABLED, "Properties": {
        "Name": {"Fn::Sub": f"{PLATFORM}-signups-${{AWS::StackName}}"},
        "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
        "Description": "Sign-up rate limits on the admin API: POST /registration",
        "CustomResponseBodies": {THROTTLED_BODY: {
            "ContentType": "APPLICATION_JSON",
            "Content": json.dumps({"message": "Too Many Requests"})}},
        "Rules": [_rule("signups-per-address", 0, "IP", SIGNUP_RATE_PER_ADDRESS),
                  _rule("signups-total", 1, "CONSTANT", SIGNUP_RATE_TOTAL)],
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                             "MetricName": f"{PLATFORM}-signups"},
    }}
    association = {"Type": "AWS::WAFv2::WebACLAssociation", "Condition": SIGNUP_WAF_ENABLED,
                   "Properties": {
                       "WebACLArn": cfn.get_att(WEB_ACL, "Arn"),
                       "ResourceArn": {"Fn::Join": ["", [
                           "arn:", cfn.ref("AWS::Partition"), ":apigateway:",
                           cfn.ref("AWS::Region"), "::/restapis/", cfn.ref(admin_api),
                           "/stages/", cfn.ref(f"{admin_api}.Stage")]]}}}
    return {
        "Parameters": parameters(),
        "Conditions": {SIGNUP_WAF_ENABLED: {"Fn::Equals": [cfn.ref(SIGNUP_WAF), "enabled"]}},
        "Resources": {WEB_ACL: web_acl, WEB_ACL_ASSOCIATION: association},
    }

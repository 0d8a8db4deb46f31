"""The pooled stack's opt-in sign-up WAF: only when ``SignupWaf=enabled`` (a condition on every
WAF resource, off by default: WAF is billed), rate-based per address and overall on POST
/registration, answering 429 with Retry-After and CORS; the Platinum cap reaches the admin
function. cfn-lint of the whole template is ``test_templates``'; here the WAF's own rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.stacks.signup_limits import (
    PENDING_PLATINUM_CAP,
    SIGNUP_RATE_WINDOW,
    SIGNUP_WAF,
    SIGNUP_WAF_ENABLED,
    WAF_MIN_LIMIT,
    WAF_WINDOWS,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
)
from tenant_context.config import (
    DEFAULT_PENDING_PLATINUM_CAP,
    DEFAULT_SIGNUP_RATE_PER_ADDRESS,
    DEFAULT_SIGNUP_RATE_TOTAL,
    DEFAULT_SIGNUP_RATE_WINDOW_SECONDS,
    Env,
)
from tests.support.packaged import Packaged, resources_of

pytestmark = pytest.mark.usefixtures("sam_region")


@pytest.fixture
def sam_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(Env.AWS_DEFAULT_REGION, "us-east-1")


def waf_resources(template: dict[str, Any]) -> dict[str, Any]:
    return {name: resource for name, resource in template["Resources"].items()
            if resource["Type"].startswith("AWS::WAFv2::")}


def test_the_waf_exists_only_when_enabled_and_is_off_by_default(packaged: Packaged) -> None:
    pooled = packaged.templates["pooled"]
    assert set(waf_resources(pooled)) == {WEB_ACL, WEB_ACL_ASSOCIATION}
    assert all(resource["Condition"] == SIGNUP_WAF_ENABLED
               for resource in waf_resources(pooled).values())
    assert pooled["Conditions"][SIGNUP_WAF_ENABLED] == {"Fn::Equals": [{"Ref": SIGNUP_WAF},
                                                                        "enabled"]}
    assert pooled["Parameters"][SIGNUP_WAF]["Default"] == "disabled"
    assert waf_resources(packaged.templates["silo"]) == {}


def test_the_defaults_are_the_documented_ones_and_valid_for_waf(packaged: Packaged) -> None:
    parameters = packaged.templates["pooled"]["Parameters"]
    assert parameters["SignupRatePerAddress"]["Default"] == DEFAULT_SIGNUP_RATE_PER_ADDRESS
    assert parameters["SignupRateTotal"]["Default"] == DEFAULT_SIGNUP_RATE_TOTAL
    assert parameters[SIGNUP_RATE_WINDOW]["Default"] == DEFAULT_SIGNUP_RATE_WINDOW_SECONDS
    assert parameters[PENDING_PLATINUM_CAP]["Default"] == DEFAULT_PENDING_PLATINUM_CAP
    assert min(DEFAULT_SIGNUP_RATE_PER_ADDRESS, DEFAULT_SIGNUP_RATE_TOTAL) >= WAF_MIN_LIMIT
    assert DEFAULT_SIGNUP_RATE_WINDOW_SECONDS in WAF_WINDOWS


def test_rules_limit_post_registration_per_address_and_overall(packaged: Packaged) -> None:
    acl = packaged.templates["pooled"]["Resources"][WEB_ACL]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    statements = {name: rule["Statement"]["RateBasedStatement"] for name, rule in rules.items()}
    assert {name: statement["AggregateKeyType"] for name, statement in statements.items()} == {
        "signups-per-address": "IP", "signups-total": "CONSTANT"}
    for name, statement in statements.items():
        matches = [each["ByteMatchStatement"]
                   for each in statement["ScopeDownStatement"]["AndStatement"]["Statements"]]
        assert {(json.dumps(match["FieldToMatch"]), match["SearchString"],
                 match["PositionalConstraint"]) for match in matches} == {
            ('{"Method": {}}', "POST", "EXACTLY"),
            ('{"UriPath": {}}', "/registration", "ENDS_WITH")}
        assert statement["EvaluationWindowSec"] == {"Ref": SIGNUP_RATE_WINDOW}
        response = rules[name]["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        headers = {header["Name"]: header["Value"] for header in response["ResponseHeaders"]}
        assert headers["Retry-After"] == {"Ref": SIGNUP_RATE_WINDOW}
        assert headers["Access-Control-Allow-Origin"] == "*"
        body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert json.loads(body["Content"]) == {"message": "Too Many Requests"}


def test_it_guards_the_admin_apis_stage_and_the_cap_reaches_the_function(
        packaged: Packaged) -> None:
    translated = packaged.translated("pooled")  # the SAM transform resolves the stage's name
    association = translated["Resources"][WEB_ACL_ASSOCIATION]
    assert association["Condition"] == SIGNUP_WAF_ENABLED
    arn = json.dumps(association["Properties"]["ResourceArn"])
    assert "AdminRestAPI" in arn
    assert "/stages/" in arn
    assert ".Stage" not in arn
    functions = resources_of(packaged.templates["pooled"], "AWS::Serverless::Function")
    admin = functions["AdminAPIHandler"]["Properties"]["Environment"]["Variables"]
    assert admin[Env.PENDING_PLATINUM_CAP] == {"Ref": PENDING_PLATINUM_CAP}

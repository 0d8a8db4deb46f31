"""make deploy-pooled's sign-up options: SIGNUP_WAF=1 and the limits reach the pooled stack's
parameters; values WAF refuses stop the run before anything is done (exit 2, naming the
variable); locally they are make local's environment, not the command's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.deploy.cli import argument_problems, parser
from tests.pipeline.deploy.conftest import Cli, Connections

AWS = ["--target", "aws", "--bucket", "my-artifacts", "--region", "eu-west-1", "--dry-run"]


def test_the_waf_and_its_limits_reach_the_pooled_stack(cli: Cli, no_aws: Connections,
                                                       packaged_dist: Path) -> None:
    run = cli(["pooled", *AWS, "--admin-email", "ops@example.com", "--dist", str(packaged_dist),
               "--signup-waf", "--signup-rate-per-address", "20", "--signup-rate-total", "500",
               "--signup-rate-window-seconds", "60", "--pending-platinum-cap", "3"])
    assert (run.code, run.err) == (0, [])
    (create,) = run.call_lines("cloudformation.create_change_set")
    match = re.search(r" Parameters=(\S+)", create)
    assert match
    parameters = {each["ParameterKey"]: each["ParameterValue"]
                  for each in json.loads(match.group(1))}
    assert {key: parameters[key] for key in ("SignupWaf", "SignupRatePerAddress",
                                             "SignupRateTotal", "SignupRateWindowSeconds",
                                             "PendingPlatinumCap")} == {
        "SignupWaf": "enabled", "SignupRatePerAddress": "20", "SignupRateTotal": "500",
        "SignupRateWindowSeconds": "60", "PendingPlatinumCap": "3"}


@pytest.mark.parametrize(("options", "said"), [
    (["--signup-rate-per-address", "9"], "SIGNUP_RATE_PER_ADDRESS): from 10"),
    (["--signup-rate-total", "0"], "SIGNUP_RATE_TOTAL): from 10"),
    (["--signup-rate-window-seconds", "30"], "SIGNUP_RATE_WINDOW_SECONDS): one of WAF's"),
    (["--pending-platinum-cap", "0"], "PENDING_PLATINUM_CAP): at least 1"),
])
def test_limits_waf_refuses_are_refused_first(options: list[str], said: str) -> None:
    args = parser().parse_args(["pooled", *AWS, "--admin-email", "ops@example.com", *options])
    assert any(said in problem for problem in argument_problems(args))
    local = parser().parse_args(["pooled", "--target", "local", *options])
    assert argument_problems(local) == []  # make local reads its own from the environment

"""``make web-config TARGET=aws``: what the web apps need, read from the pooled stack's outputs
(``pipeline.stacks.web_config.POOLED_OUTPUTS``), with the run's region and that region's Cognito.
One ``DescribeStacks``: a dry run prints it and answers with the outputs' placeholders."""

from __future__ import annotations

from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import AwsCalls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.console import Out
from pipeline.deploy.aws.placeholders import PretendAws
from pipeline.stacks.inventory import POOLED_STACK_NAME
from pipeline.stacks.web_config import POOLED_OUTPUTS, WebConfig, aws_cognito_endpoint


def aws_web_config(calls: AwsCalls, region: str, out: Out) -> WebConfig:
    """``out``: where progress goes (never the JSON's stream). No bucket: nothing is uploaded."""
    outputs = Stacks(calls, DeploymentBucket(calls, "", "", region, out), out).outputs(
        POOLED_STACK_NAME)
    return WebConfig(admin_api_url=outputs[POOLED_OUTPUTS["admin_api_url"]], region=region,
                     operations_user_pool_id=outputs[POOLED_OUTPUTS["operations_user_pool_id"]],
                     operations_app_client_id=outputs[POOLED_OUTPUTS["operations_app_client_id"]],
                     cognito_endpoint=aws_cognito_endpoint(region))


def pretend_pooled_stack() -> PretendAws:
    """A dry run's AWS: the pooled stack deployed, with the outputs read here."""
    return PretendAws(lambda stack: POOLED_OUTPUTS.values(), existing_stacks=[POOLED_STACK_NAME])

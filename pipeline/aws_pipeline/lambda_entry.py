"""The tenant pipeline's Lambda functions: the table's stream handler and the deploy-stack and
rollout state machines' tasks. Built from the function's environment once per container (the stack
sets it); everything they do is ``provisioning_events``' and ``stack_tasks``'."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from pipeline.aws_pipeline.provisioning_events import start_deployments
from pipeline.aws_pipeline.rollout_tasks import RolloutTasks
from pipeline.aws_pipeline.stack_tasks import StackTasks, run_task
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.deploy.aws.stack_settings import StackSettings
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.deployments import Deployments

logger = Logger(service="tenant-pipeline")
TEMPLATES_PREFIX = "templates"  # large templates CloudFormation reads by URL


@functools.cache
def _stack_tasks() -> StackTasks:
    config = PlatformConfig.from_environ()
    session = boto3.Session()
    calls = Boto3Calls(session)
    bucket = config.require(Env.RELEASE_BUCKET)
    region = session.region_name or config.require(Env.AWS_REGION)
    stacks = Stacks(calls, DeploymentBucket(calls, bucket, TEMPLATES_PREFIX, region, logger.info),
                    logger.info, role_arn=config.require(Env.CLOUDFORMATION_ROLE_ARN))
    return StackTasks(
        Deployments(session.client("dynamodb"), config.require(Env.TENANT_STACK_MAPPING_TABLE)),
        stacks, ReleaseStore(calls, bucket),
        StackSettings(int(config.optional(Env.LOG_RETENTION_DAYS, "30"))))


@logger.inject_lambda_context
def stack_task(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``{"task": ..., "state": ...}`` from the state machine; an exception is the task's
    error, named by its class (``DeploymentBusy`` is retried, the rest caught and recorded)."""
    return run_task(_stack_tasks().tasks(), event)


@functools.cache
def _rollout_tasks() -> RolloutTasks:
    config = PlatformConfig.from_environ()
    session = boto3.Session()
    return RolloutTasks(
        Deployments(session.client("dynamodb"), config.require(Env.TENANT_STACK_MAPPING_TABLE)),
        ReleaseStore(Boto3Calls(session), config.require(Env.RELEASE_BUCKET)))


@logger.inject_lambda_context
def rollout_task(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The rollout state machine's tasks (plan, failures, report)."""
    return run_task(_rollout_tasks().tasks(), event)


@functools.cache
def _state_machine() -> str:
    return PlatformConfig.from_environ().require(Env.DEPLOY_STACK_STATE_MACHINE_ARN)


@logger.inject_lambda_context
def stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = start_deployments(event.get("Records", []), boto3.client("stepfunctions"),
                                _state_machine())
    logger.info("deployments started", extra={"started": started.started,
                                               "duplicates": started.duplicates})
    return {"started": started.started, "duplicates": started.duplicates}

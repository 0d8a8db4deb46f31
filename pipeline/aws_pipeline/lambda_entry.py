"""The tenant pipeline's Lambda functions: the tables' stream handlers (deployments, tenant
moves, offboardings) and the deploy-stack, rollout, tenant-move and tenant-offboarding state
machines' tasks. Built from the function's environment once per container (the stack sets it);
everything they do is ``provisioning_events``', ``stack_tasks``', ``rollout_tasks``',
``lifecycle_events``' and ``lifecycle_tasks``'."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from pipeline.aws_pipeline.lifecycle_events import (
    MOVES,
    OFFBOARDINGS,
    TenantWork,
    start_requested,
)
from pipeline.aws_pipeline.lifecycle_tasks import (
    AdvancingTask,
    advancing_moves,
    advancing_offboardings,
)
from pipeline.aws_pipeline.provisioning_events import Started, start_deployments
from pipeline.aws_pipeline.rollout_tasks import RolloutTasks
from pipeline.aws_pipeline.stack_tasks import StackTasks, run_task
from pipeline.deploy.aws.artifacts import DeploymentBucket
from pipeline.deploy.aws.calls import Boto3Calls
from pipeline.deploy.aws.change_sets import Stacks
from pipeline.deploy.aws.release_store import ReleaseStore
from pipeline.deploy.aws.stack_settings import StackSettings
from pipeline.lifecycle.exports import S3Exports
from pipeline.lifecycle.offboarding import OffboardingTables, TenantOffboarder
from pipeline.lifecycle.tenant_move import MoveTimings, TenantMover
from pipeline.stacks.state_machines import POLL_SECONDS
from tenant_context.config import Env, PlatformConfig
from tenant_context.platform.deployments import Deployments
from tenant_context.platform.platform_settings import read_settings
from tenant_context.platform.tenant_api_keys import TenantApiKeys
from tenant_context.platform.tenant_moves import TenantMoves
from tenant_context.platform.tenant_offboarding import TenantOffboardings

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
def _state_machine(setting: Env) -> str:
    """A state machine's ARN, from the setting the stack names it in."""
    return PlatformConfig.from_environ().require(setting)


def _reported(what: str, started: Started) -> dict[str, Any]:
    """A stream handler's answer, logged: what it started and what was already started."""
    logger.info(f"{what} started", extra={"started": started.started,
                                          "duplicates": started.duplicates})
    return {"started": started.started, "duplicates": started.duplicates}


def _start_work(kind: TenantWork, event: dict[str, Any], setting: Env) -> Started:
    return start_requested(kind, event.get("Records", []), boto3.client("stepfunctions"),
                           _state_machine(setting))


@logger.inject_lambda_context
def stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _reported("deployments", start_deployments(
        event.get("Records", []), boto3.client("stepfunctions"),
        _state_machine(Env.DEPLOY_STACK_STATE_MACHINE_ARN)))


# Copying per run of the move task (its timeout is 15 minutes): the rest of a run is margin
# for the step's other calls and for recording where the copy goes on.
COPY_BUDGET_SECONDS = 600.0


@functools.cache
def _move_tasks() -> AdvancingTask:
    """The mover as AWS runs it: the control-plane tables the stack names, the usage plans'
    ids from the settings table (as the admin API reads them), AWS's settle times, and a
    deployment coming up looked at every ``POLL_SECONDS`` (the deploy-stack machine's own pace:
    a look every 2 s would fill the execution's history)."""
    config = PlatformConfig.from_environ()
    session = boto3.Session()
    dynamodb = session.client("dynamodb")
    settings_table = config.require(Env.SETTINGS_TABLE)
    moves = TenantMoves(dynamodb, config.require(Env.TENANT_DETAILS_TABLE))
    keys = TenantApiKeys(session.client("apigateway"),
                         lambda: read_settings(dynamodb, settings_table).usage_plan_ids)
    timings = dataclasses.replace(MoveTimings.from_config(config), poll=float(POLL_SECONDS))
    return advancing_moves(moves, TenantMover(
        dynamodb, session.client("cloudformation"), moves,
        Deployments(dynamodb, config.require(Env.TENANT_STACK_MAPPING_TABLE)), keys, timings,
        budget=COPY_BUDGET_SECONDS, report=logger.info))


@logger.inject_lambda_context
def move_task(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The tenant-move state machine's task: ``{"tenantId", "moveId"}`` -> one step
    (``MoveStepError`` and every other exception are the task's error, by class name)."""
    return _move_tasks().advance(event)


@logger.inject_lambda_context
def move_stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _reported("tenant moves",
                     _start_work(MOVES, event, Env.TENANT_MOVE_STATE_MACHINE_ARN))


@functools.cache
def _offboarding_tasks() -> AdvancingTask:
    """The offboarder as AWS runs it: the control-plane tables the stack names, the pools and
    plans from the settings table (read when a step needs them, as the move task does),
    exports in the stack's export bucket (links signed with SigV4, the only signature a link
    of days accepts), progress to the function's log. No extra remains
    check: on AWS the verification's scans are the whole check (locally the emulator's
    recording is one more place)."""
    config = PlatformConfig.from_environ()
    session = boto3.Session()
    dynamodb = session.client("dynamodb")
    settings_table = config.require(Env.SETTINGS_TABLE)
    tables = OffboardingTables(config.require(Env.TENANT_DETAILS_TABLE),
                               config.require(Env.TENANT_NAMES_TABLE),
                               config.require(Env.TENANT_USER_MAPPING_TABLE),
                               config.require(Env.TENANT_STACK_MAPPING_TABLE))
    keys = TenantApiKeys(session.client("apigateway"),
                         lambda: read_settings(dynamodb, settings_table).usage_plan_ids)
    offboarder = TenantOffboarder(
        dynamodb, session.client("cognito-idp"), session.client("cloudformation"), keys,
        lambda: read_settings(dynamodb, settings_table), tables,
        S3Exports(session.client("s3", config=Config(signature_version="s3v4")),
                  config.require(Env.EXPORT_BUCKET)), report=logger.info)
    return advancing_offboardings(TenantOffboardings(dynamodb, tables.tenant_details),
                                  offboarder)


@logger.inject_lambda_context
def offboarding_task(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The tenant-offboarding state machine's task: ``{"tenantId", "offboardingId"}`` -> one
    step (``OffboardingStepError`` and every other exception are the task's error, by class
    name)."""
    return _offboarding_tasks().advance(event)


@logger.inject_lambda_context
def offboarding_stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _reported("offboardings",
                     _start_work(OFFBOARDINGS, event, Env.TENANT_OFFBOARDING_STATE_MACHINE_ARN))

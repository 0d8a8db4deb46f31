"""Stacks the emulator's CloudFormation deploys for real, standing in for the platform's (whose
SAM transform it cannot run): one SSM parameter that names the release, so every release is a
real update, with the parameters and outputs the deployer passes and reads."""

from __future__ import annotations

from typing import Any

from pipeline.deploy.aws.onboard_tenant import SILO_PARAMETERS_FROM_POOLED, TENANT_API_OUTPUT

SILO_PARAMETERS = ["TenantId", "TenantTier", *SILO_PARAMETERS_FROM_POOLED, "LogRetentionDays",
                   "DesiredState"]
SILO_OUTPUTS = [TENANT_API_OUTPUT]
POOLED_PARAMETERS = ["LogRetentionDays"]
POOLED_OUTPUTS = list(SILO_PARAMETERS_FROM_POOLED.values())


def plain_stack(release: str, parameters: list[str], outputs: list[str]) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {name: {"Type": "String", "Default": "-"} for name in parameters},
            "Resources": {"Release": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": {"Fn::Sub": "/plain/${AWS::StackName}/release"},
                "Type": "String", "Value": release}}},
            "Outputs": {name: {"Value": f"arn:plain:{name}"} for name in outputs}}


def pooled_stack(release: str) -> dict[str, Any]:
    return plain_stack(release, POOLED_PARAMETERS, POOLED_OUTPUTS)


def silo_stack(release: str) -> dict[str, Any]:
    return plain_stack(release, SILO_PARAMETERS, SILO_OUTPUTS)

"""The AWS clients of one boto3 session, one typed attribute per service the platform calls.

boto3 picks a client's class by a service-name string: a type checker follows a literal name,
but not a name passed around as a ``str``. So code that needs several services (the control
plane, the local platform, the deployer, tests) takes this holder rather than a factory by
name, and every call it makes is checked against the service's stubs. Each client is built on
first use and then kept, so a function pays only for the clients it uses.

The stub packages that type the clients are a development dependency, imported for the type
checker only: the layer never ships them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.client import BaseClient
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_iam import IAMClient
    from types_boto3_lambda import LambdaClient
    from types_boto3_s3 import S3Client
    from types_boto3_stepfunctions import SFNClient
    from types_boto3_sts import STSClient


@dataclass(frozen=True)
class AwsClients:
    session: Session  # its credentials and region are every client's
    endpoint_url: str | None = None  # an emulator's; None: AWS (or ``AWS_ENDPOINT_URL``)

    @classmethod
    def in_region(cls, region: str) -> AwsClients:
        """On the credentials the environment provides (a function's role)."""
        import boto3  # deferred: keeps module import cheap on cold start

        return cls(boto3.session.Session(region_name=region))

    @functools.cached_property
    def apigateway(self) -> APIGatewayClient:
        return self.session.client("apigateway", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def cloudformation(self) -> CloudFormationClient:
        return self.session.client("cloudformation", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def cognito(self) -> CognitoIdentityProviderClient:
        return self.session.client("cognito-idp", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self.session.client("dynamodb", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def iam(self) -> IAMClient:
        return self.session.client("iam", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def lambda_(self) -> LambdaClient:
        return self.session.client("lambda", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def s3(self) -> S3Client:
        return self.session.client("s3", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def sts(self) -> STSClient:
        return self.session.client("sts", endpoint_url=self.endpoint_url)

    @functools.cached_property
    def stepfunctions(self) -> SFNClient:
        return self.session.client("stepfunctions", endpoint_url=self.endpoint_url)

    def named(self, service: str) -> BaseClient:
        """The client of a service whose name is data: the deployer names each call's service
        so that a dry run can print the call (``pipeline.deploy.aws.calls``)."""
        by_name: dict[str, Callable[[], BaseClient]] = {
            "apigateway": lambda: self.apigateway,
            "cloudformation": lambda: self.cloudformation,
            "cognito-idp": lambda: self.cognito,
            "dynamodb": lambda: self.dynamodb,
            "iam": lambda: self.iam,
            "lambda": lambda: self.lambda_,
            "s3": lambda: self.s3,
            "sts": lambda: self.sts,
            "stepfunctions": lambda: self.stepfunctions,
        }
        if service not in by_name:
            raise ValueError(f"no client for {service!r}: the platform calls "
                             f"{', '.join(sorted(by_name))}")
        return by_name[service]()

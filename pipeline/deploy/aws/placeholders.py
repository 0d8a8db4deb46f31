"""What a dry run pretends AWS and the admin API answered, so every step after a call still
runs and prints its own calls. Values a real run would learn are shown as ``<where.what>``
(``<stack-pooled.AdminApiUrl>``, ``<tenantId>``), never as made-up ids that could be mistaken
for real ones.

The pretend world is small and consistent: a stack exists if the run was told so (the pooled
stack, when onboarding; a recorded tenant's, when releasing to tenants) or once a change set was
executed for it; its outputs are named after its template's; an object is in the bucket once it
was put there in this run; the tenant-stack-mapping table holds the rows the run was given (a
dry run cannot know the real ones: see ``recorded_deployment``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from pipeline.deploy.aws.admin_api_http import HttpAnswer
from pipeline.deploy.aws.calls import Answer
from tenant_context.attribute_values import to_item
from tenant_context.platform.definitions import PLATFORM, TENANT_STACK_MAPPING_TABLE
from tenant_context.platform.deployments import stack_name
from tenant_context.platform.tenant_records import DeploymentRecord, DeploymentStatus

TENANT_ID = "<tenantId>"


def placeholder(where: str, what: str) -> str:
    return f"<{where}.{what}>"


# The table's name without the platform prefix: short enough for the summary's column.
DESIRED_STATE = placeholder(TENANT_STACK_MAPPING_TABLE.name.removeprefix(f"{PLATFORM}-"),
                            "desiredState")


def recorded_deployment(tenant_id: str) -> DeploymentRecord:
    """A tenant named on a dry run's command line, as its row is taken to be: deployed (the
    usual case of a release: an update). Its desired state is shown as ``DESIRED_STATE``
    (``placeholder_state``): only a real run reads it from the row."""
    return DeploymentRecord(tenant_id, stack_name(tenant_id), frozenset(), "",
                            status=DeploymentStatus.ACTIVE)


def placeholder_state(row: DeploymentRecord) -> str:
    """A dry run's stand-in for the desired state a real run reads from each row."""
    return DESIRED_STATE


class PretendAws:
    def __init__(self, output_names: Callable[[str], Iterable[str]],
                 existing_stacks: Iterable[str] = (),
                 deployment_rows: Iterable[DeploymentRecord] = ()) -> None:
        self._output_names = output_names
        self._rows = list(deployment_rows)
        self._stacks = dict.fromkeys(existing_stacks, "CREATE_COMPLETE")
        self._stacks |= dict.fromkeys((row.stack_name for row in self._rows
                                       if row.status == DeploymentStatus.ACTIVE), "UPDATE_COMPLETE")
        self._change_sets: dict[str, str] = {}
        self._executed: set[str] = set()
        self._objects: set[tuple[str, str]] = set()

    def __call__(self, service: str, operation: str, params: Mapping[str, Any]) -> Answer:
        handler = getattr(self, f"_{service}_{operation}", None)
        answer: Answer = handler(params) if handler else {}
        return answer

    def _s3_list_objects_v2(self, params: Mapping[str, Any]) -> Answer:
        # Nothing is there before the run, so every upload is shown once.
        contents = [{"Key": params["Prefix"]}] if (params["Bucket"], params["Prefix"]) in \
            self._objects else []
        return {"KeyCount": len(contents), "Contents": contents}

    def _s3_put_object(self, params: Mapping[str, Any]) -> Answer:
        self._objects.add((params["Bucket"], params["Key"]))
        return {}

    def _dynamodb_scan(self, params: Mapping[str, Any]) -> Answer:
        items = [to_item(row.to_item()) for row in self._rows]
        return {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    def _apigateway_get_account(self, params: Mapping[str, Any]) -> Answer:
        return {"cloudwatchRoleArn": placeholder("account", "cloudwatchRoleArn")}

    def _lambda_get_account_settings(self, params: Mapping[str, Any]) -> Answer:
        return {"AccountLimit": {"UnreservedConcurrentExecutions": placeholder(
            "account", "UnreservedConcurrentExecutions")}}

    def _cloudformation_describe_stacks(self, params: Mapping[str, Any]) -> Answer:
        name = params["StackName"]
        if name not in self._stacks:  # what CloudFormation answers, so the same path runs
            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Stack with id {name} does not exist"}},
                              "DescribeStacks")
        return {"Stacks": [{"StackName": name, "StackStatus": self._stacks[name],
                            "Outputs": [{"OutputKey": key, "OutputValue": placeholder(name, key)}
                                        for key in self._output_names(name)]}]}

    def _cloudformation_create_change_set(self, params: Mapping[str, Any]) -> Answer:
        self._change_sets[params["ChangeSetName"]] = params["ChangeSetType"]
        return {"Id": placeholder(params["StackName"], params["ChangeSetName"])}

    def _cloudformation_describe_change_set(self, params: Mapping[str, Any]) -> Answer:
        executed = params["ChangeSetName"] in self._executed
        return {"Status": "CREATE_COMPLETE",
                "ExecutionStatus": "EXECUTE_COMPLETE" if executed else "AVAILABLE"}

    def _cloudformation_execute_change_set(self, params: Mapping[str, Any]) -> Answer:
        change_type = self._change_sets[params["ChangeSetName"]]
        self._stacks[params["StackName"]] = f"{change_type}_COMPLETE"
        self._executed.add(params["ChangeSetName"])
        return {}


def pretend_admin_api(method: str, url: str, body: dict[str, Any] | None) -> HttpAnswer:
    """The registration answers a new tenant; the tenant's init answers it as provisioned."""
    if method == "POST" and url.endswith("/registration") and body is not None:
        return HttpAnswer(201, {"tenantId": TENANT_ID, "tenantName": body["tenantName"],
                                "tenantTier": body["tenantTier"],
                                "tenantAdminUserName": f"tenant-admin-{TENANT_ID}",
                                "message": "Tenant registered (dry run)"})
    if method == "GET" and "/tenant/init/" in url:
        return HttpAnswer(200, {key: placeholder("tenant-init", key)
                                for key in ("userPoolId", "appClientId", "apiGatewayUrl")})
    return HttpAnswer(404, {"message": f"the dry run does not know {method} {url}"})

"""IAM session policies per role: what the scoped credentials of a request may touch.

The authorizer passes one of these documents to ``sts:AssumeRole``; AWS then grants the intersection
of the document and the assumed role's own policy (``access_role_policy``, the union of every role's
statements). Pooled tenant data is limited by ``dynamodb:LeadingKeys`` to partition keys starting
with ``<tenantId>-``, in ONE statement over every tenant service's pooled table (a name pattern
that no control-plane table matches), so a policy's size does not grow with the number of
services: STS refuses a session policy over 2,048 characters, which would end every sign-in.
The emulator enforces none of this, which is why
``tenant_context.service.tenant_tables`` checks keys again in code and tests check these documents
as data.

Design notes:
- Tenants and users are deactivated, never deleted: the only ``DeleteItem`` on the control
  plane is a SystemAdmin's on the tenant-names table (a rename moves the name's claim). No
  statement grants ``Scan`` on tenant data.
- Tenant roles get no index ARNs: an index's partition key is not the tenant id, so
  ``LeadingKeys`` could not confine it.
- ``ForAllValues`` is vacuously true when a request carries no leading key (a ``Scan``, a
  ``PartiQL`` statement): every ``LeadingKeys`` condition therefore comes with
  ``Null: false``, so a request naming no partition key is denied even if a later grant
  allowed its action (and ``Scan`` is still never granted on tenant data).
- IAM holds without our code: a TenantAdmin's credentials may update only the contact
  attributes of its tenant's record (``dynamodb:Attributes``, an allow-list that names the key
  too, as DynamoDB requires, with the same ``Null`` guard; ``dynamodb:ReturnValues`` limited to
  what the update wrote), so the tier, the API key and the active flag are out of its reach.
  Its users' records it may only read: a user record's role and enabled flag are written by
  the shared-services function's own role, after the service's checks. A TenantUser's
  credentials reach no control-plane table at all: ``LeadingKeys`` confines the partition key
  (the tenant), never the user, so any grant would cover every user of its tenant; the service
  reads the caller's own record with its role after checking whose it is.
- A document with nothing to allow (a Platinum tenant's user: its data is in its own stack)
  holds one explicit deny of everything, because IAM accepts no empty statement list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tenant_context.platform.definitions import SAMPLE_TENANT_ID, data_table_pattern
from tenant_context.tenancy import POOLED_DEPLOYMENT, Role, tenant_key_prefix

READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")
DATA_ACTIONS = (*READ, *WRITE, "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
SCAN = ("dynamodb:Scan",)

MAX_SESSION_POLICY_CHARS = 2048  # sts:AssumeRole limit for an inline session policy

# What a TenantAdmin's credentials may write on its tenant's record: the contact fields the web
# app's tenant form changes (its key must be listed too: DynamoDB counts key attributes).
TENANT_ADMIN_WRITABLE = ("tenantId", "tenantEmail", "tenantPhone", "tenantAddress", "modifiedAt")
# ReturnValues that return only what the request wrote (ALL_OLD/ALL_NEW return everything).
WRITTEN_ONLY = ("NONE", "UPDATED_OLD", "UPDATED_NEW")
NOTHING = {"Effect": "Deny", "Action": "*", "Resource": "*"}


@dataclass(frozen=True)
class PolicyResources:
    """ARNs of the tables the policies name (region, account and names from configuration)."""

    settings: str
    tenant_details: str
    tenant_names: str
    tenant_user_mapping: str
    tenant_stack_mapping: str
    pooled_data: str  # every tenant service's pooled table, by name pattern

    @classmethod
    def for_tables(cls, arn_prefix: str, *, settings: str, tenant_details: str,
                   tenant_names: str, tenant_user_mapping: str,
                   tenant_stack_mapping: str) -> PolicyResources:
        """``arn_prefix`` is ``arn:<partition>:dynamodb:<region>:<account>``. The pooled data
        tables are named by the platform's rule, so they come from no configuration."""
        def arn(name: str) -> str:
            return f"{arn_prefix}:table/{name}"
        return cls(arn(settings), arn(tenant_details), arn(tenant_names),
                   arn(tenant_user_mapping), arn(tenant_stack_mapping),
                   arn(data_table_pattern(POOLED_DEPLOYMENT)))


def _statement(actions: tuple[str, ...], resources: list[str],
               leading_keys: list[str] | None = None,
               writable: tuple[str, ...] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": sorted(actions),
                                 "Resource": resources}
    condition: dict[str, dict[str, Any]] = {}
    if leading_keys is not None:
        condition["ForAllValues:StringLike"] = {"dynamodb:LeadingKeys": leading_keys}
        # ForAllValues is true of a request naming no key at all: this makes one required.
        condition["Null"] = {"dynamodb:LeadingKeys": "false"}
    if writable is not None:
        condition["ForAllValues:StringEquals"] = {"dynamodb:Attributes": list(writable)}
        condition.setdefault("Null", {})["dynamodb:Attributes"] = "false"
        condition["StringEqualsIfExists"] = {"dynamodb:ReturnValues": list(WRITTEN_ONLY)}
    if condition:
        statement["Condition"] = condition
    return statement


def _with_indexes(*table_arns: str) -> list[str]:
    return [arn for table in table_arns for arn in (table, f"{table}/index/*")]


def session_policy(role: Role, tenant_id: str, *, pooled_data: bool,
                   resources: PolicyResources) -> dict[str, Any]:
    """The document for one (tenant, role). ``pooled_data``: the tenant's data is in the pool."""
    r = resources
    statements: list[dict[str, Any]]
    if role is Role.SYSTEM_ADMIN:
        statements = [
            _statement(READ + SCAN + WRITE, _with_indexes(
                r.tenant_details, r.tenant_user_mapping, r.tenant_stack_mapping)),
            _statement(("dynamodb:GetItem", *SCAN), [r.settings]),
            # Renaming a tenant moves its name claim: the one delete in the control plane.
            _statement(("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
                        "dynamodb:ConditionCheckItem"), [r.tenant_names]),
        ]
    elif role is Role.CUSTOMER_SUPPORT:
        statements = [
            _statement(READ + SCAN, _with_indexes(r.tenant_details, r.tenant_user_mapping)),
            _statement(("dynamodb:GetItem", *SCAN), [r.settings]),
        ]
    else:
        own = [tenant_id]  # control-plane rows are keyed by the exact tenant id
        statements = [
            _statement(("dynamodb:GetItem",), [r.tenant_details], own),
            _statement(("dynamodb:UpdateItem",), [r.tenant_details], own, TENANT_ADMIN_WRITABLE),
            _statement(READ, [r.tenant_user_mapping], own),
        ] if role is Role.TENANT_ADMIN else []
        if pooled_data:
            statements.append(_statement(DATA_ACTIONS, [r.pooled_data],
                                         [f"{tenant_key_prefix(tenant_id)}*"]))
    return {"Version": "2012-10-17", "Statement": statements or [NOTHING]}


def to_json(policy: dict[str, Any]) -> str:
    """Compact form, as sent to STS (which limits the size of a session policy)."""
    return json.dumps(policy, separators=(",", ":"), sort_keys=True)


def access_role_policy(resources: PolicyResources) -> dict[str, Any]:
    """The assumed role's own policy: every action any session policy may grant, unconditioned.

    Derived from ``session_policy`` so the role can never fall behind (or run ahead of) what
    the session policies ask for.
    """
    actions_by_resource: dict[str, set[str]] = {}
    for role in Role:
        for pooled in (True, False):
            document = session_policy(role, SAMPLE_TENANT_ID, pooled_data=pooled,
                                      resources=resources)
            for statement in document["Statement"]:
                if statement["Effect"] != "Allow":
                    continue
                for resource in statement["Resource"]:
                    actions_by_resource.setdefault(resource, set()).update(statement["Action"])
    grouped: dict[tuple[str, ...], list[str]] = {}
    for resource, actions in actions_by_resource.items():
        grouped.setdefault(tuple(sorted(actions)), []).append(resource)
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": sorted(resource_list)}
        for actions, resource_list in sorted(grouped.items())]}

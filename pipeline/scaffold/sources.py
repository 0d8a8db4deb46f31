"""The files of a new tenant service, from its registry entry: what ``product_service`` is,
with a body a builder replaces by their own.

The app is the thin routes every tenant service has, over the layer's ``ItemResource``; the
domain module is the one file a builder edits (their fields); the tests are the tenant API's
promises for any service (a tenant's own items from creation to deletion, pooled and silo,
another tenant's 404, bad input's 400) through the session's real apps and authorizer. Names
chosen by the builder go through ``python_text``, so what is written passes the lint and the
type check as it stands, whatever the names.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from string import Template

from pipeline.scaffold import python_text
from pipeline.scaffold.chalice_config import config_text
from tenant_context.tenant_services import TenantService, TenantServices

BODY_FIELDS = ("name", "description")  # the generated body; the id attribute must differ
# As every app's: the layer ships every runtime dependency.
REQUIREMENTS = ("# Empty on purpose: every runtime dependency ships in the shared "
                "tenant-context layer.\n")
# What the app module defines or imports besides the resource (its variable must differ).
_APP_NAMES = {"annotations", "app", "authorized", "platform", "platform_app"}
# What the domain module's ``view`` uses besides its parameter.
_VIEW_NAMES = {"fields", "key"}
_DOMAIN_CONSTANTS = {"ID", "SERVICE"}


def domain_package(service: TenantService) -> str:
    """Its code's package under the namespace package ``chalicelib`` that every app shares,
    so the name must be unique across apps."""
    return f"{service.name}_domain"


def domain_module(service: TenantService) -> str:
    return f"{service.item}s"


def service_files(service: TenantService, registry: TenantServices
                  ) -> dict[PurePosixPath, str]:
    """Every file of the new service, by path from the project root (the registry line
    aside)."""
    app_dir = PurePosixPath(service.folder)
    package_dir = app_dir / "chalicelib" / domain_package(service)
    tests_dir = PurePosixPath("tests") / service.folder
    return {
        app_dir / "app.py": app_source(service),
        package_dir / "__init__.py": package_source(service),
        package_dir / f"{domain_module(service)}.py": domain_source(service),
        app_dir / ".chalice" / "config.json": config_text(service, registry),
        app_dir / "requirements.txt": REQUIREMENTS,
        tests_dir / "__init__.py": tests_package_source(service),
        tests_dir / f"test_{service.item}s.py": tests_source(service),
    }


_APP = Template('''\
${docstring}

from __future__ import annotations

from chalice import Response

from chalicelib.${package} import ${module_import}
from tenant_context.service.chalice_app import platform_app
from tenant_context.service.item_resource import ItemResource

platform = platform_app(${module}.SERVICE.app_name)
app = platform.app
authorized = platform.authorized
${resource_definition}
${resource}.publish_document(${module}.${schema})


@app.route("${prefix}s", methods=["GET"], **authorized)
def list_${item}s() -> Response:
    return ${resource}.list()


@app.route("${prefix}", methods=["POST"], **authorized)
def create_${item}() -> Response:
    return ${resource}.create()


@app.route("${prefix}/{key}", methods=["GET"], **authorized)
def get_${item}(key: str) -> Response:
    return ${resource}.get(key)


@app.route("${prefix}/{key}", methods=["PUT"], **authorized)
def update_${item}(key: str) -> Response:
    return ${resource}.replace(key)


@app.route("${prefix}/{key}", methods=["DELETE"], **authorized)
def delete_${item}(key: str) -> Response:
    return ${resource}.delete(key)
''')


def app_source(service: TenantService) -> str:
    item, module_name = service.item, domain_module(service)
    module = python_text.identifier(module_name, _APP_NAMES)
    resource = python_text.identifier(item, _APP_NAMES | {module})
    return _APP.substitute(
        docstring=python_text.docstring(
            f"{service.name.replace('_', ' ').capitalize()} service: the tenant API for "
            f"{item}s (pooled or a Platinum silo, "
            "by configuration).",
            f"Routes only; what a {item} is lives in "
            f"``chalicelib.{domain_package(service)}.{module_name}``; how a tenant's items are "
            "handled, stored, listed and versioned in the layer (``item_resource``, "
            "``tenant_items``)."),
        package=domain_package(service),
        module_import=module_name if module == module_name else f"{module_name} as {module}",
        module=module, resource=resource, item=item, prefix=service.route_prefix,
        schema=body_schema_name(service),
        resource_definition=python_text.call(
            f"{resource} = ItemResource",
            ["platform", f"{module}.SERVICE", f"{module}.view", f"{module}.read_body"]))


def package_source(service: TenantService) -> str:
    return python_text.docstring(
        f"{service.noun}s of one deployment's tenants (pooled or silo, by configuration).") + "\n"


_DOMAIN = Template('''\
${docstring}

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tenant_context.service.context import TenantContext
from tenant_context.service.item_resource import ItemResource
from tenant_context.service.tenant_items import StoredItem
from tenant_context.service.validation import BodySchema, Text
from tenant_context.tenant_services import TENANT_SERVICES

SERVICE = TENANT_SERVICES.named("${name}")
ID = SERVICE.id_attribute


@dataclass(frozen=True)
class ${body}:
    name: str
    description: str = ""


${schema} = BodySchema(${body}, (
    Text("name", max_length=256),
    Text("description", required=False, min_length=0, max_length=2048),
), ignore_unknown=True)


def read_body(body: dict[str, Any], tenant: TenantContext, resource: ItemResource
              ) -> dict[str, Any]:
    """The stored fields from a request body (unknown fields ignored), or a 400 naming every
    wrong one."""
    return asdict(${schema}.read(body))


def view(${variable}: StoredItem) -> dict[str, Any]:
    key, fields = ${variable}.key, ${variable}.attributes
    return {"key": str(key), "shardId": key.shard_id, ID: key.item_id,
            "name": fields.get("name", ""), "description": fields.get("description", "")}
''')


def body_schema_name(service: TenantService) -> str:
    """The domain module's ``BodySchema`` constant, which the app also names (its document)."""
    return python_text.identifier(service.item.upper(), _DOMAIN_CONSTANTS)


def domain_source(service: TenantService) -> str:
    item, noun, id_attribute = service.item, service.noun, service.id_attribute
    body, schema = f"{noun}Body", body_schema_name(service)
    return _DOMAIN.substitute(
        docstring=python_text.docstring(
            f"{noun}s: what a {item} is, as clients send and read it; the file to edit for "
            "your fields.",
            "Body: ``{name, description}`` (other fields are ignored). Response: ``{key, "
            f"shardId, {id_attribute}, name, description}}``; ``key`` is "
            f"``shardId:{id_attribute}``, which clients put in URLs.",
            "Written by ``make new-service`` with two fields to replace. A field is an "
            f"attribute of ``{body}``, its rule in ``{schema}`` (``Text``, ``Number``, "
            "``Choice``, ``ListOf``: ``tenant_context.service.validation``, which answers 400 "
            "naming every wrong field) and its value in ``view``; then its cases in "
            f"``tests/{service.folder}``. Keys, storage, versions, paging and tenant isolation "
            "are the layer's (``ItemResource``), so nothing here needs to know them, or can get "
            "them wrong."),
        name=service.name, body=body, schema=schema,
        variable=python_text.identifier(item, _VIEW_NAMES))


def tests_package_source(service: TenantService) -> str:
    return python_text.docstring(
        f"The {service.name} service through its real app and the real authorizer "
        "(``make new-service`` wrote the first tests; add your fields' cases).") + "\n"


_TESTS = Template('''\
${docstring}

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tenant_api import Customer

ID = "${id_attribute}"
ITEM_PATH = "${prefix}"
LIST_PATH = "${prefix}s"
GOOD = {"name": "First", "description": "Written by the tests"}


def keys(listed: list[dict[str, Any]]) -> list[str]:
    return [item["key"] for item in listed]


@pytest.mark.parametrize("who", ["A", "P"], ids=["pooled", "silo"])
def test_a_tenant_creates_reads_lists_replaces_and_deletes_its_own(
        customers: dict[str, Customer], who: str) -> None:
    me = customers[who]
    call, token = me.api.call, me.token
    created = call("POST", ITEM_PATH, token, GOOD)
    assert created.status_code == 201, created.body
    assert created.headers["ETag"] == '"1"'
    item = created.json_body
    assert item["key"] == f"{item['shardId']}:{item[ID]}"
    assert (item["name"], item["description"]) == (GOOD["name"], GOOD["description"])
    path = f"{ITEM_PATH}/{item['key']}"
    assert call("GET", path, token).json_body == item
    assert item in call("GET", LIST_PATH, token).json_body

    replaced = call("PUT", path, token, {"name": "Second"})
    assert replaced.status_code == 200, replaced.body
    assert replaced.headers["ETag"] == '"2"'
    assert (replaced.json_body["name"], replaced.json_body["description"]) == ("Second", "")
    assert call("GET", path, token).json_body == replaced.json_body

    assert call("DELETE", path, token).status_code == 200
    assert call("GET", path, token).status_code == 404
    assert item["key"] not in keys(call("GET", LIST_PATH, token).json_body)


def test_another_tenant_never_reaches_it(customers: dict[str, Customer]) -> None:
    """Another tenant of the same deployment: 404 for every call on the key (existence is
    never revealed), nothing in its own listing, and the owner's item unchanged."""
    owner, other = customers["A"], customers["B"]
    item = owner.api.call("POST", ITEM_PATH, owner.token, GOOD).json_body
    path = f"{ITEM_PATH}/{item['key']}"
    for method, body in (("GET", None), ("PUT", {"name": "Taken"}), ("DELETE", None)):
        response = other.api.call(method, path, other.token, body)
        assert response.status_code == 404, (method, response.body)
    assert item["key"] not in keys(other.api.call("GET", LIST_PATH, other.token).json_body)
    assert owner.api.call("GET", path, owner.token).json_body == item


@pytest.mark.parametrize(("body", "field"), [
    ({"description": "no name"}, "name"),
    ({**GOOD, "name": 5}, "name"),
], ids=["missing-name", "name-not-a-string"])
def test_bad_input_is_a_400_naming_the_field(customers: dict[str, Customer],
                                             body: dict[str, Any], field: str) -> None:
    me = customers["A"]
    response = me.api.call("POST", ITEM_PATH, me.token, body)
    assert response.status_code == 400, response.body
    assert response.json_body["fields"] == [field]
    assert me.api.call("GET", LIST_PATH, me.token).json_body == []  # nothing stored
''')


def tests_source(service: TenantService) -> str:
    return _TESTS.substitute(
        docstring=python_text.docstring(
            f"The {service.item}s of a pooled tenant and of a Platinum tenant (its own "
            "deployment), through the session's real apps and authorizer: from creation to "
            "deletion, never reached by another tenant, and bad input refused naming the "
            "field."),
        id_attribute=service.id_attribute, prefix=service.route_prefix)

"""The registry of tenant services: the ONE list of the platform's tenant-isolated microservices.

A tenant service is a Chalice app in ``<name>_service/`` that serves one kind of item under
its deployment's ONE base URL (the pool's, and each Platinum tenant's own), on a table of its
own per deployment (``<platform>-<item>-<deployment>``, partition ``shardId``, sort key its id
attribute). Everything that would otherwise list the services by hand reads ``TENANT_SERVICES``
instead: the tables and session policies (``tenant_context.platform``), the templates, the
packaging and the Makefile (``pipeline``), the local platform, the benchmarks and the tests.
Adding a service is its folder and ONE line below; ``make new-service`` writes both.

Why the checks live here, at import: two services whose routes or tables meet fail far from the
cause (one API answering 403, one kind's items in another's table, a route served by the wrong
app), so a registry that could produce them refuses to load, naming the entry and the rule.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from tenant_context.config import TableVariable, table_variable
from tenant_context.errors import ConfigurationError

_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_ITEM = re.compile(r"[a-z][a-z0-9]*")
_ID_ATTRIBUTE = re.compile(r"[a-z][A-Za-z0-9]*")
MAX_NAME_LENGTH = 24  # "<name>-service-<stage>" stays within Lambda's 64-character names
# The admin API's paths (api-contract.md). A tenant service never serves them: the web apps
# send both APIs the same paths, and a reader should never wonder which one answers.
CONTRACT_PREFIXES = ("/registration", "/tenant", "/user")
# Attributes every item already has (``tenant_context.service.tenant_items``).
ITEM_ATTRIBUTES = ("shardId", "key", "version", "tenantId")


@dataclass(frozen=True)
class Problem:
    """One rule an entry breaks: the field at fault and why (its value is the caller's to show,
    so ``make new-service`` can name the argument it came from)."""

    field: str  # name | item | id_attribute | reads
    why: str


@dataclass(frozen=True)
class TenantService:
    """One entry: what the platform must know about a service to build, wire and serve it."""

    name: str  # ``review``: folder ``review_service``, Chalice app ``review-service``
    item: str  # ``review``: routes /review, /reviews, /review/{key}; its tables; its metrics
    id_attribute: str  # ``reviewId``: the table's sort key and the id in every response
    reads: tuple[str, ...] = ()  # items of other services it reads (an order's products)

    @property
    def folder(self) -> str:
        return f"{self.name}_service"

    @property
    def app_name(self) -> str:
        """The Chalice app's name (``.chalice/config.json``), which names its REST API."""
        return f"{self.name.replace('_', '-')}-service"

    @property
    def logical_name(self) -> str:
        """``Review``: the prefix of its resources in a stack (``PooledReview`` in the pool's)."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def noun(self) -> str:
        """``Review``: names its metrics (``ReviewCreated`` ...) and messages."""
        return self.item.capitalize()

    @property
    def route_prefix(self) -> str:
        """Every route of the service starts with it (``/review``, ``/reviews``, ``/review/x``)."""
        return f"/{self.item}"

    @property
    def document_path(self) -> str:
        """Its OpenAPI document (``/reviews/openapi.json``): under its routes, so the
        deployment's one base URL reaches it, and beside ``/review/{key}``, never one of them."""
        return f"{self.route_prefix}s/openapi.json"

    @property
    def table_variable(self) -> TableVariable:
        """The environment variable that hands its table's name to functions."""
        return table_variable(self.item)

    def problems(self) -> list[Problem]:
        """What is wrong with this entry on its own (``conflicts`` checks entries together)."""
        found = []
        if keyword.iskeyword(self.name):
            found.append(Problem("name", "a Python keyword (the folder's code could not "
                                         "import it)"))
        elif not _NAME.fullmatch(self.name):
            found.append(Problem("name", "lowercase letters, digits and single underscores, "
                                         "starting with a letter (a Python identifier and a "
                                         "Chalice app name)"))
        if not _ITEM.fullmatch(self.item):
            found.append(Problem("item", "lowercase letters and digits, starting with a letter "
                                         "(it becomes the route /<item> and the table's name)"))
        found += [Problem(field, f"at most {MAX_NAME_LENGTH} characters")
                  for field, value in (("name", self.name), ("item", self.item))
                  if len(value) > MAX_NAME_LENGTH]
        if not _ID_ATTRIBUTE.fullmatch(self.id_attribute) or len(self.id_attribute) > 64:
            found.append(Problem("id_attribute", "a camelCase attribute name (letters and "
                                                 "digits, starting lowercase), at most 64 "
                                                 "characters"))
        if self.id_attribute in ITEM_ATTRIBUTES:
            found.append(Problem("id_attribute", "every item already has it"))
        if self.item in self.reads:
            found.append(Problem("reads", "its own table needs no entry in reads"))
        return found


def prefixes_overlap(first: str, second: str) -> bool:
    """The front door and the HTTP API route by prefix: /rev and /review would share paths."""
    return first.startswith(second) or second.startswith(first)


def conflicts(services: Sequence[TenantService]) -> list[tuple[TenantService, Problem]]:
    """What is wrong with entries together: each against those before it and the contract."""
    found = []
    items = {service.item for service in services}
    for index, service in enumerate(services):
        for other in services[:index]:
            if service.name == other.name:
                found.append((service, Problem("name", "registered twice")))
            if service.item == other.item:
                found.append((service, Problem("item", f"{other.name}'s: they would share "
                                                       "tables")))
            elif prefixes_overlap(service.route_prefix, other.route_prefix):
                found.append((service, Problem(
                    "item", f"routes {service.route_prefix} overlap {other.name}'s "
                            f"{other.route_prefix} (one base URL serves both)")))
        found += [(service, Problem("item", f"routes {service.route_prefix} overlap the admin "
                                            f"API's {prefix}"))
                  for prefix in CONTRACT_PREFIXES
                  if prefixes_overlap(service.route_prefix, prefix)]
        found += [(service, Problem("reads", f"{item!r}: no registered service serves it"))
                  for item in service.reads if item not in items]
    return found


def registry_problems(services: Sequence[TenantService]) -> list[tuple[TenantService, Problem]]:
    return [(service, problem) for service in services
            for problem in service.problems()] + conflicts(services)


def describe(problems: list[tuple[TenantService, Problem]]) -> str:
    """``review: item 'tenant': why; ...``: every problem, each with its entry and value."""
    return "; ".join(f"{service.name}: {problem.field} {getattr(service, problem.field)!r}: "
                     f"{problem.why}" for service, problem in problems)


class TenantServices(Sequence[TenantService]):
    """The registered services, checked together: unique names, items and route prefixes."""

    def __init__(self, *services: TenantService) -> None:
        if problems := registry_problems(services):
            raise ConfigurationError(f"tenant service registry: {describe(problems)}")
        self._services = services

    @overload
    def __getitem__(self, index: int) -> TenantService: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[TenantService]: ...
    def __getitem__(self, index: int | slice) -> TenantService | Sequence[TenantService]:
        return self._services[index]

    def __len__(self) -> int:
        return len(self._services)

    def named(self, name: str) -> TenantService:
        for service in self._services:
            if service.name == name:
                return service
        raise ConfigurationError(f"no tenant service named {name!r}; registered: "
                                 f"{', '.join(service.name for service in self._services)}")

    def serving(self, item: str) -> TenantService:
        """The service whose table holds ``item`` items (what ``reads`` names)."""
        for service in self._services:
            if service.item == item:
                return service
        raise ConfigurationError(f"no tenant service serves {item!r} items")

    def read_by(self, service: TenantService) -> tuple[TenantService, ...]:
        """The services whose tables ``service`` reads besides its own."""
        return tuple(self.serving(item) for item in service.reads)


# One line per service; ``make new-service`` adds the next line above the closing parenthesis.
TENANT_SERVICES = TenantServices(
    TenantService("product", "product", "productId"),
    TenantService("order", "order", "orderId", reads=("product",)),
)

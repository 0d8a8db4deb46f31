"""``make new-service``'s arguments (NAME, ITEM, ID), their defaults, and everything wrong with
them, each problem on its own line naming its argument.

The rules are the registry's (``TenantService.problems``, ``conflicts`` with the registered
services, and the definitions' ``control_plane_conflicts``), checked before anything is
written: a service the registry would refuse would make every module that imports it fail, far
from the cause. The scaffold adds what only its own output needs: a free folder, package and
tests folder, and names its generated code can use.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path

from pipeline.scaffold.registry_entry import REGISTRY_FILE
from pipeline.scaffold.sources import BODY_FIELDS, domain_package
from tenant_context.platform.definitions import control_plane_conflicts
from tenant_context.tenant_services import Problem, TenantService, TenantServices, conflicts

NAME, ITEM, ID = "NAME", "ITEM", "ID"
_ARGUMENTS = (NAME, ITEM, ID)
# The registry's fields, as the arguments that give them (a new service reads nothing).
_ARGUMENT_OF = {"name": NAME, "item": ITEM, "id_attribute": ID, "reads": NAME}


@dataclass(frozen=True)
class Arguments:
    """As given; an empty ``item`` defaults to ``name``, an empty ``id_attribute`` to
    ``<item>Id``."""

    name: str
    item: str = ""
    id_attribute: str = ""

    @property
    def service(self) -> TenantService:
        item = self.item or self.name
        return TenantService(self.name, item, self.id_attribute or f"{item}Id")

    def label(self, argument: str) -> str:
        """``ITEM=review``, saying where a value came from when it was not given."""
        service = self.service
        if argument == NAME:
            return f"{NAME}={service.name}"
        if argument == ITEM:
            return f"{ITEM}={service.item}" + ("" if self.item else f" (defaults to {NAME})")
        return f"{ID}={service.id_attribute}" + ("" if self.id_attribute
                                                 else f" (defaults to {ITEM} + Id)")

    def defaulted_from(self, argument: str) -> str | None:
        """The argument a value left out was derived from."""
        if argument == ITEM and not self.item:
            return NAME
        if argument == ID and not self.id_attribute:
            return ITEM
        return None


def problems(arguments: Arguments, root: Path, registry: TenantServices) -> list[str]:
    """One line per problem, ``NAME=x: why``, in argument order; empty when the service can be
    written under ``root`` and added to ``registry``."""
    found = _registry_problems(arguments, registry)
    found += _output_problems(arguments, {argument for argument, _ in found})
    if not any(argument == NAME for argument, _ in found):
        found += _existing(arguments, root, registry)
    # A value derived from a wrong one is wrong for the same reason: said once, at its source.
    found = [(argument, why) for argument, why in found
             if arguments.defaulted_from(argument) not in {wrong for wrong, _ in found}]
    found.sort(key=lambda problem: _ARGUMENTS.index(problem[0]))
    return [f"{arguments.label(argument)}: {why}" for argument, why in found]


def _registry_problems(arguments: Arguments, registry: TenantServices) -> list[tuple[str, str]]:
    """The entry's own problems, its conflicts with the registered services (being registered
    already is said by ``_existing``) and with the control plane."""
    service = arguments.service
    found: list[Problem] = service.problems()
    found += [problem for entry, problem in conflicts([*registry, service])
              if entry is service and problem.why != "registered twice"]
    found += [problem for _, problem in control_plane_conflicts([service])]
    return [(_ARGUMENT_OF[problem.field], problem.why) for problem in found]


def _output_problems(arguments: Arguments, wrong: set[str]) -> list[tuple[str, str]]:
    """What the generated code itself needs of valid names."""
    service, found = arguments.service, []
    if ITEM not in wrong and keyword.iskeyword(f"{service.item}s"):
        found.append((ITEM, f"its module would be {service.item}s.py, and {service.item}s "
                            "is a Python keyword"))
    if service.id_attribute in BODY_FIELDS:
        found.append((ID, f"the generated body has a field {service.id_attribute!r} "
                          f"({', '.join(BODY_FIELDS)}); the id must be another attribute"))
    return found


def _existing(arguments: Arguments, root: Path, registry: TenantServices
              ) -> list[tuple[str, str]]:
    service, found = arguments.service, []
    if any(registered.name == service.name for registered in registry):
        found.append((NAME, f"already a registered service ({REGISTRY_FILE})"))
    for folder in (Path(service.folder), Path("tests") / service.folder):
        if (root / folder).exists():
            found.append((NAME, f"{folder}/ already exists"))
    package = domain_package(service)
    found += [(NAME, f"{path.relative_to(root)} already exists (every app's chalicelib is "
                     f"one namespace package: chalicelib.{package} must be unique)")
              for path in sorted(root.glob(f"*/chalicelib/{package}"))]
    return found

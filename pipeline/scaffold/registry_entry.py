"""The registry line of a new service, added right above the closing parenthesis of
``TENANT_SERVICES = TenantServices(``, and nowhere else.

The registry is code a person reads and edits, so it is edited as text, one line added and every
other byte kept (comments, layout), never regenerated. A file whose shape is not the one
expected is refused rather than guessed at, and the result is parsed before it is returned: the
new entry is the registry's last argument, and nothing else changed.
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from pipeline.scaffold import python_text
from tenant_context.tenant_services import TenantService

REGISTRY_FILE = PurePosixPath("layer/tenant_context/tenant_services.py")
OPENING = "TENANT_SERVICES = TenantServices("
CLOSING = ")"


class RegistryShapeError(Exception):
    """The registry file is not laid out as the scaffold expects; nothing was changed."""


def entry(service: TenantService) -> str:
    """``    TenantService("review", "review", "reviewId"),`` (on two lines if it must)."""
    return python_text.call("TenantService", [f'"{service.name}"', f'"{service.item}"',
                                              f'"{service.id_attribute}"'],
                            tail=",", indent="    ")


def with_entry(text: str, service: TenantService) -> str:
    """The registry file's text with ``service``'s entry added last."""
    lines = text.splitlines(keepends=True)
    openings = [index for index, line in enumerate(lines) if line.rstrip() == OPENING]
    if len(openings) != 1:
        raise RegistryShapeError(f"expected one line {OPENING!r}, found {len(openings)}")
    start = openings[0]
    closing = next((index for index in range(start + 1, len(lines))
                    if lines[index].rstrip() == CLOSING), None)
    if closing is None:
        raise RegistryShapeError(f"no line {CLOSING!r} closes {OPENING!r}")
    if closing > start + 1 and not lines[closing - 1].rstrip().endswith(","):
        raise RegistryShapeError(f"the entry above its closing {CLOSING!r} (line {closing}) "
                                 "does not end with a comma")
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    added = "".join([*lines[:closing], entry(service) + newline, *lines[closing:]])
    if _entries(added) != [*_entries(text), (service.name, service.item,
                                             service.id_attribute)]:
        raise RegistryShapeError(f"adding a line above line {closing + 1} does not add one "
                                 f"entry to {OPENING!r}")
    return added


def _entries(text: str) -> list[tuple[object, ...]]:
    """The registry's entries as written: each call's literal arguments."""
    try:
        module = ast.parse(text)
    except SyntaxError as error:
        raise RegistryShapeError(f"not valid Python: {error}") from None
    for node in module.body:
        if isinstance(node, ast.Assign) and [ast.unparse(target) for target in node.targets] \
                == ["TENANT_SERVICES"] and isinstance(node.value, ast.Call):
            return [tuple(argument.value if isinstance(argument, ast.Constant)
                          else ast.unparse(argument) for argument in call.args)
                    for call in node.value.args if isinstance(call, ast.Call)]
    raise RegistryShapeError("no assignment TENANT_SERVICES = TenantServices(...)")

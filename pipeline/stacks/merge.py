"""Several ``chalice package`` outputs as ONE CloudFormation stack.

Chalice emits one template per app, and every app names its resources alike (``RestAPI``,
``APIHandler``, ...). A deployment (the pooled one, or a Platinum tenant's silo) is one stack,
so each app's template gets a prefix on the logical ids it defines, references included
(``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``DependsOn``, SAM's ``Fn.Alias``/``Api.Stage``), and the
parts are then joined. Ids a part only refers to (the shared layer, tables, parameters) are
left alone: they belong to the stack.
"""

from __future__ import annotations

import re
from typing import Any

Template = dict[str, Any]
_SECTIONS = ("Parameters", "Conditions", "Resources", "Outputs")
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)\}")


def prefixed(template: Template, prefix: str) -> Template:
    """``template`` with every logical id it defines renamed ``<prefix><id>``."""
    defined = {name for section in ("Resources", "Outputs")
               for name in template.get(section, {})}

    def rename(name: str) -> str:
        head, dot, tail = name.partition(".")
        return f"{prefix}{head}{dot}{tail}" if head in defined else name

    def rewrite_sub(text: str, local: frozenset[str]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            return match.group(0) if name in local else "${" + rename(name) + match.group(2) + "}"
        return _SUB_VARIABLE.sub(replace, text)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"} and isinstance(node["Ref"], str):
            return {"Ref": rename(node["Ref"])}
        if set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            if isinstance(target, str):
                return {"Fn::GetAtt": rename(target)}
            return {"Fn::GetAtt": [rename(target[0]), *target[1:]]}
        if set(node) == {"Fn::Sub"}:
            value = node["Fn::Sub"]
            if isinstance(value, str):
                return {"Fn::Sub": rewrite_sub(value, frozenset())}
            text, variables = value
            return {"Fn::Sub": [rewrite_sub(text, frozenset(variables)), walk(variables)]}
        return {key: walk(value) for key, value in node.items()}

    result: Template = {key: value for key, value in template.items() if key not in _SECTIONS}
    for section in _SECTIONS:
        if section not in template:
            continue
        entries = {}
        for name, body in template[section].items():
            body = walk(body)
            if section == "Resources" and "DependsOn" in body:
                depends = body["DependsOn"]
                body["DependsOn"] = (rename(depends) if isinstance(depends, str)
                                     else [rename(item) for item in depends])
            entries[rename(name) if section in ("Resources", "Outputs") else name] = body
        result[section] = entries
    return result


def combined(*parts: Template) -> Template:
    """The parts as one template; a logical id defined twice is an error, never a silent
    overwrite."""
    result: Template = {}
    for part in parts:
        for key, value in part.items():
            if key not in _SECTIONS:
                result.setdefault(key, value)
                continue
            section = result.setdefault(key, {})
            clashes = set(section) & set(value)
            same = {name for name in clashes if section[name] == value[name]}
            if clashes - same:
                raise ValueError(f"{key} defined twice: {sorted(clashes - same)}")
            section.update(value)
    return result

"""Walks an Amazon States Language definition the way Step Functions runs it, for the states
our definitions use: Pass, Task, Choice, Wait, Succeed, Fail (and Map, one item at a time),
with InputPath/Parameters/ResultSelector/ResultPath/OutputPath, Retry and Catch, and the
``States.MathAdd`` intrinsic. The emulator runs no Lambda task inside a state machine, so a
test gives each Task a function (the real task, or a recorded answer) and walks the very
definition the stack deploys; a Wait takes no time.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TaskFunction = Callable[[str, Any], Any]  # (resource, parameters) -> result
_MATH_ADD = re.compile(r"States\.MathAdd\((\$[^,]*),\s*(-?\d+)\)")


class TaskError(Exception):
    """A task's failure as Step Functions names it (``Error`` and ``Cause``)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass
class Outcome:
    status: str  # SUCCEEDED or FAILED
    output: Any = None
    error: str = ""
    cause: str = ""
    path: list[str] = field(default_factory=list)  # every state entered, in order
    retries: dict[str, int] = field(default_factory=dict)  # state -> retries taken


def read(document: Any, path: str, context: Mapping[str, Any]) -> Any:
    """A JSONPath of the forms ``$``, ``$.a.b`` and ``$$.Execution.Id``."""
    root, rest = (context, path[2:]) if path.startswith("$$") else (document, path[1:])
    value = root
    for part in filter(None, rest.split(".")):
        if not isinstance(value, Mapping) or part not in value:
            raise TaskError("States.Runtime", f"{path} is not in the input")
        value = value[part]
    return value


def write(document: Any, path: str | None, result: Any) -> Any:
    if path is None:
        return document
    if path == "$":
        return result
    updated = copy.deepcopy(document)
    target = updated
    parts = path[2:].split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = result
    return updated


def resolve(template: Any, document: Any, context: Mapping[str, Any]) -> Any:
    """Parameters, ResultSelector and ItemSelector: keys ending ``.$`` are paths."""
    if isinstance(template, Mapping):
        resolved = {}
        for key, value in template.items():
            if key.endswith(".$"):
                resolved[key[:-2]] = _value(value, document, context)
            else:
                resolved[key] = resolve(value, document, context)
        return resolved
    if isinstance(template, list):
        return [resolve(item, document, context) for item in template]
    return template


def _value(expression: str, document: Any, context: Mapping[str, Any]) -> Any:
    added = _MATH_ADD.fullmatch(expression)
    if added:
        return read(document, added[1], context) + int(added[2])
    return read(document, expression, context)


def _matches(rule: Mapping[str, Any], document: Any, context: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(_matches(each, document, context) for each in rule["And"])
    if "Or" in rule:
        return any(_matches(each, document, context) for each in rule["Or"])
    if "Not" in rule:
        return not _matches(rule["Not"], document, context)
    try:
        value = read(document, rule["Variable"], context)
    except TaskError:
        return rule.get("IsPresent") is False
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "StringEquals": lambda a, b: isinstance(a, str) and a == b,
        "NumericEquals": lambda a, b: a == b,
        "NumericGreaterThan": lambda a, b: a > b,
        "NumericLessThan": lambda a, b: a < b,
        "NumericGreaterThanEquals": lambda a, b: a >= b,
        "BooleanEquals": lambda a, b: a is b,
        "IsPresent": lambda a, b: b is True,
    }
    for name, compare in comparisons.items():
        if name in rule:
            return compare(value, rule[name])
    if "NumericGreaterThanPath" in rule:
        return bool(value > read(document, rule["NumericGreaterThanPath"], context))
    raise NotImplementedError(f"choice rule {rule}")


def _error_matches(names: list[str], error: str) -> bool:
    return error in names or "States.ALL" in names or (
        "States.TaskFailed" in names and not error.startswith("States."))


class Walker:
    def __init__(self, definition: Mapping[str, Any], task: TaskFunction,
                 context: Mapping[str, Any] | None = None, max_steps: int = 10_000) -> None:
        self._definition = definition
        self._task = task
        self._context = context or {"Execution": {"Id": "arn:aws:states:execution:walk"}}
        self._max_steps = max_steps

    def run(self, document: Any) -> Outcome:
        outcome = Outcome("RUNNING")
        output = self._walk(self._definition, document, outcome)
        if outcome.status == "RUNNING":
            outcome.status, outcome.output = "SUCCEEDED", output
        return outcome

    def _walk(self, machine: Mapping[str, Any], document: Any, outcome: Outcome) -> Any:
        name = machine["StartAt"]
        for _ in range(self._max_steps):
            state = machine["States"][name]
            outcome.path.append(name)
            kind = state["Type"]
            if kind == "Succeed":
                return document
            if kind == "Fail":
                outcome.status = "FAILED"
                outcome.error = state.get("Error") or read(document, state["ErrorPath"],
                                                           self._context)
                outcome.cause = state.get("Cause") or (read(
                    document, state["CausePath"], self._context) if "CausePath" in state
                    else "")
                return None
            if kind == "Choice":
                name = next((rule["Next"] for rule in state["Choices"]
                             if _matches(rule, document, self._context)), None) \
                    or state["Default"]
                continue
            try:
                document = self._run_state(name, state, document, outcome)
            except TaskError as failure:
                handler = next((catch for catch in state.get("Catch", [])
                                if _error_matches(catch["ErrorEquals"], failure.error)), None)
                if handler is None:
                    outcome.status, outcome.error, outcome.cause = \
                        "FAILED", failure.error, failure.cause
                    return None
                document = write(document, handler.get("ResultPath", "$"),
                                 {"Error": failure.error, "Cause": failure.cause})
                name = handler["Next"]
                continue
            if outcome.status != "RUNNING":
                return None
            if state.get("End"):
                return document
            name = state["Next"]
        raise AssertionError(f"no end after {self._max_steps} states: {outcome.path[-20:]}")

    def _run_state(self, name: str, state: Mapping[str, Any], document: Any,
                   outcome: Outcome) -> Any:
        kind = state["Type"]
        # A task waiting for a callback gets its token, as ``$$.Task.Token``.
        context = {**self._context, "Task": {"Token": f"task-token:{name}"}} \
            if kind == "Task" else self._context
        effective = read(document, state.get("InputPath", "$"), context)
        if "Parameters" in state:
            effective = resolve(state["Parameters"], effective, context)
        if kind == "Wait":
            return document
        if kind == "Pass":
            result = state.get("Result", effective)
        elif kind == "Task":
            result = self._with_retries(name, state, effective, outcome)
        elif kind == "Map":
            items = read(effective, state.get("ItemsPath", "$"), self._context)
            processor = state.get("ItemProcessor") or state["Iterator"]
            result = []
            for index, item in enumerate(items):
                context = {**self._context, "Map": {"Item": {"Value": item, "Index": index}}}
                selected = resolve(state["ItemSelector"], effective, context) \
                    if "ItemSelector" in state else item
                inner = Outcome("RUNNING")
                output = Walker(processor, self._task, context, self._max_steps
                                )._walk(processor, selected, inner)
                outcome.path += [f"{name}[{index}].{step}" for step in inner.path]
                if inner.status == "FAILED":
                    raise TaskError(inner.error, inner.cause)
                result.append(output)
        else:
            raise NotImplementedError(f"state type {kind}")
        if "ResultSelector" in state:
            result = resolve(state["ResultSelector"], result, self._context)
        document = write(document, state.get("ResultPath", "$"), result)
        return read(document, state.get("OutputPath", "$"), self._context)

    def _with_retries(self, name: str, state: Mapping[str, Any], parameters: Any,
                      outcome: Outcome) -> Any:
        attempts: dict[int, int] = {}
        while True:
            try:
                return json.loads(json.dumps(self._task(state["Resource"], parameters)))
            except TaskError as failure:
                for index, retrier in enumerate(state.get("Retry", [])):
                    if _error_matches(retrier["ErrorEquals"], failure.error):
                        if attempts.get(index, 0) < retrier.get("MaxAttempts", 3):
                            attempts[index] = attempts.get(index, 0) + 1
                            outcome.retries[name] = outcome.retries.get(name, 0) + 1
                            break
                        raise
                else:
                    raise

"""Request bodies in, typed values out, or a 400 that names every offending field.

Each service declares a body once: its fields (kind, bounds, allowed characters) and the frozen
dataclass they become (``BodySchema``). ``BodySchema.read`` checks every field, refuses fields
it does not know, reports everything wrong in one answer (so a client can fix a form in one
round trip) and builds the dataclass: handlers read ``body.tenant_name``, which mypy checks,
never ``values["tenantName"]``, which it cannot. A schema whose fields and dataclass disagree
fails when its module is imported, not on a request. Nothing here trusts the body's shape: any
JSON may arrive, and none of it may cause a 5xx.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tenant_context.errors import BadRequestError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MAX_BODY_BYTES = 64 * 1024
MAX_PAGE_SIZE = 1000  # ?limit= of both APIs' listings
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Half of a UTF-16 pair on its own: JSON's "\ud800" escape makes one, Python keeps it, and
# DynamoDB refuses it (a 500 for the caller, as any storage error).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Never str.isdigit or \d: they also take "²" and U+0661 (an Arabic-Indic one).
ASCII_DIGITS = re.compile(r"[0-9]+")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


class FieldError(ValueError):
    pass


class NestedFieldError(ValueError):
    """Problems inside a field (a list's elements), each under its own full name."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Text:
    """A string: trimmed, bounded, without control characters, optionally of a charset."""

    name: str
    required: bool = True
    max_length: int = 256
    min_length: int = 1
    pattern: re.Pattern[str] | None = None
    charset: str = ""  # how ``pattern`` reads to a person, for the error message

    def clean(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError("must be a string")
        value = value.strip()
        if not self.min_length <= len(value) <= self.max_length:
            raise FieldError(f"must be {self.min_length} to {self.max_length} characters")
        if _CONTROL.search(value):
            raise FieldError("must not contain control characters")
        if _LONE_SURROGATE.search(value):
            raise FieldError("must be valid Unicode (a lone UTF-16 surrogate is not)")
        if self.pattern and not self.pattern.fullmatch(value):
            raise FieldError(f"may contain only {self.charset}")
        return value


@dataclass(frozen=True)
class Email(Text):
    max_length: int = 254

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not EMAIL.fullmatch(value):
            raise FieldError("is not a valid email address")
        return value


@dataclass(frozen=True)
class Choice:
    """One of a fixed set, through a parser such as ``Tier.parse`` (raises ValueError).

    ``schema``: the values the parser takes, as JSON Schema (``tenant_context.service.openapi``
    documents the field with it; a parser is code no document can read)."""

    name: str
    parse: Callable[[Any], Any]
    required: bool = True
    schema: Mapping[str, Any] | None = None

    def clean(self, value: Any) -> Any:
        try:
            return self.parse(value)
        except ValueError as error:
            raise FieldError(str(error)) from None


# DynamoDB's numbers: 38 significant digits, magnitudes from 1E-130 to 9.99...E+125 (or 0).
DYNAMODB_DIGITS = 38
DYNAMODB_MIN_EXPONENT = -130  # the adjusted exponent: 1E-130
DYNAMODB_MAX_EXPONENT = 125  # 9.99...E+125


def storable(number: Decimal) -> Decimal:
    """``number`` as DynamoDB can store it exactly, or a FieldError.

    Checked here rather than left to boto3, whose serializer raises (a 500) on anything it
    would have to round: trailing zeros (``1.000...0``) are dropped first, as they change no
    value, so only numbers that truly need more precision or range are refused.
    """
    if number.is_zero():
        return Decimal(0)  # also 0E-200 and -0, which boto3 refuses or DynamoDB alters
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    significant = len(digits)
    while digits[significant - 1] == 0:
        significant -= 1
    exponent += len(digits) - significant
    digits = digits[:significant]
    if significant > DYNAMODB_DIGITS:
        raise FieldError(f"must have at most {DYNAMODB_DIGITS} significant digits")
    adjusted = exponent + significant - 1
    if adjusted > DYNAMODB_MAX_EXPONENT:
        raise FieldError(f"must be less than 1E+{DYNAMODB_MAX_EXPONENT + 1} in magnitude")
    if adjusted < DYNAMODB_MIN_EXPONENT:
        raise FieldError(f"must be 0 or at least 1E{DYNAMODB_MIN_EXPONENT} in magnitude")
    if exponent > 0 and significant + exponent <= DYNAMODB_DIGITS:
        digits, exponent = digits + (0,) * exponent, 0  # 1E+3 reads back as 1000
    return Decimal((sign, digits, exponent))


@dataclass(frozen=True)
class Number:
    """A JSON number (never a string, never a boolean), kept exact as a Decimal that DynamoDB
    can store (``storable``)."""

    name: str
    required: bool = True
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    integer: bool = False

    def clean(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise FieldError("must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise FieldError("must be a number") from None
        if not number.is_finite():
            raise FieldError("must be a finite number")
        number = storable(number)
        if self.integer and number != number.to_integral_value():
            raise FieldError("must be a whole number")
        if self.minimum is not None and number < self.minimum:
            raise FieldError(f"must be at least {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise FieldError(f"must be at most {self.maximum}")
        return number


@dataclass(frozen=True)
class ListOf:
    """A JSON array of objects, each read by ``element`` (a tuple of its dataclasses)."""

    name: str
    element: BodySchema[Any]
    required: bool = True
    min_items: int = 1
    max_items: int = 100

    def clean(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise FieldError("must be a list")
        if not self.min_items <= len(value) <= self.max_items:
            raise FieldError(f"must hold {self.min_items} to {self.max_items} entries")
        cleaned, problems = [], {}
        for index, element in enumerate(value):
            if not isinstance(element, dict):
                problems[f"{self.name}[{index}]"] = "must be an object"
                continue
            try:
                cleaned.append(self.element.read(element))
            except InvalidFieldsError as error:
                for name, why in error.problems.items():
                    problems[f"{self.name}[{index}].{name}"] = why
        if problems:
            raise NestedFieldError(problems)
        return tuple(cleaned)


FieldSpec = Text | Choice | Number | ListOf
Body = TypeVar("Body", bound="DataclassInstance")


def whole_number(raw: str, name: str, low: int, high: int) -> int:
    """A query parameter's (or a key part's) whole number, the ONE way both APIs read one:
    ASCII digits only (``str.isdigit`` and ``\\d`` also take "²" and U+0661, an Arabic-Indic
    one, which ``int`` refuses or reads), never more digits than ``high`` has (``int``
    refuses over 4,300)."""
    if not ASCII_DIGITS.fullmatch(raw) or len(raw) > len(str(high)) or \
            not low <= int(raw) <= high:
        raise BadRequestError(f"{name}: a whole number from {low} to {high}", fields=[name])
    return int(raw)


def attribute_name(field_name: str) -> str:
    """A JSON field's attribute in its dataclass: ``tenantName`` -> ``tenant_name``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field_name).lower()


@dataclass(frozen=True)
class BodySchema(Generic[Body]):
    """A request body: its fields, and the frozen dataclass ``read`` builds from them.

    Each field becomes the attribute of its snake_case name (``renamed`` says otherwise, e.g.
    ``{"tenantTier": "tier"}``); an optional field left out takes the attribute's default.
    ``ignore_unknown``: fields no spec names are dropped instead of refused (the web app sends
    whole items back).
    """

    type: type[Body]
    fields: tuple[FieldSpec, ...]
    ignore_unknown: bool = False
    renamed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        attributes = {attribute.name for attribute in dataclasses.fields(self.type)}
        named = {self.attribute(spec.name) for spec in self.fields}
        if named != attributes:
            raise TypeError(f"{self.type.__name__}: fields {sorted(named)} do not match its "
                            f"attributes {sorted(attributes)}")

    def attribute(self, field_name: str) -> str:
        return self.renamed.get(field_name) or attribute_name(field_name)

    def read(self, body: Mapping[str, Any]) -> Body:
        """The body as its dataclass, or ``InvalidFieldsError`` naming every problem."""
        values = validate(body, self.fields, ignore_unknown=self.ignore_unknown)
        return self.type(**{self.attribute(name): value for name, value in values.items()})

    def parse(self, raw: bytes | str | None) -> Body:
        """A raw request body (``parse_json_object``, then ``read``)."""
        return self.read(parse_json_object(raw))


def parse_json_object(raw: bytes | str | None) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    if raw is None or (isinstance(raw, bytes | str) and not raw.strip()):
        raise BadRequestError("body: a JSON object is required", fields=["body"])
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequestError(f"body: larger than {MAX_BODY_BYTES} bytes", fields=["body"])
    try:
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("body: not valid JSON", fields=["body"]) from None
    if not isinstance(body, dict):
        raise BadRequestError("body: must be a JSON object", fields=["body"])
    return body


def validate(body: Mapping[str, Any], fields: Sequence[FieldSpec], *,
             ignore_unknown: bool = False) -> dict[str, Any]:
    """Clean values by field name (absent optional fields are left out): what
    ``BodySchema.read`` builds its dataclass from."""
    problems: dict[str, str] = {}
    known = {spec.name for spec in fields}
    if not ignore_unknown:
        for name in body:
            if name not in known:
                problems[str(name)[:64]] = "is not a known field"
    cleaned: dict[str, Any] = {}
    for spec in fields:
        if spec.name not in body or body[spec.name] is None:
            if spec.required:
                problems[spec.name] = "is required"
            continue
        try:
            cleaned[spec.name] = spec.clean(body[spec.name])
        except NestedFieldError as errors:
            problems |= errors.problems
        except FieldError as error:
            problems[spec.name] = str(error)
    if problems:
        raise InvalidFieldsError(problems)
    return cleaned


class InvalidFieldsError(BadRequestError):
    """400 naming every offending field; ``problems`` maps each to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()),
                         fields=list(problems))
        self.problems = problems

"""The usage table's keys and attribute names, shared by its writer and its readers.

The usage meter (``service/usage_meter``) writes and the usage records (``platform/
usage_records``) read the same rows; ``service`` and ``platform`` never import each other, so
what both must agree on lives here, below both.

A row is one tenant's usage in one UTC period (the sort key ``period``):

- ``H#2026-12-01T19``: the hour 19:00-20:00 UTC of that day; carries ``expiresAt`` (epoch
  seconds, 35 days after the hour began), the table's time to live;
- ``D#2026-12-01``: the whole day, kept (billing needs months).

Monthly active users (what Cognito bills per user signed in within a month) cannot be added up
from hours or days, so they have rows of their own: ``M#2026-12`` holds ``activeUsers``, and
``U#2026-12#<user name>`` marks a user already counted in that month (written together with
the count's increment, in one transaction conditional on the marker's absence, so each user is
counted once per month whichever process saw them first; markers expire 35 days after their
month). Range queries of hours or days never reach them (``M`` and ``U`` sort after ``H``).

The keys sort as their periods do (zero-padded, most significant first), so a range of periods
is a range of keys (one ``Query``), and the prefixes keep hours and days apart in it.

Every other attribute is a number the meter only ever ``ADD``s, named flat:
``req|<route>|<status>`` (``req|GET /products|200``), ``throttled`` (429s), ``durationMs``,
``readUnits``, ``writeUnits``, ``items|<kind>`` and ``bytes|<kind>`` (``items|product``: the net
change of a kind's stored items and their bytes). Flat, not a map per route: ``ADD`` cannot
create a nested path (``ADD req.#route :n`` fails while ``req`` does not exist), so a map would
need a read or a second conditional write per new route; a flat name is created by the ``ADD``
itself. ``|`` is the separator, so a route or a kind may not contain it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

PARTITION_KEY = "tenantId"
SORT_KEY = "period"
EXPIRES_AT = "expiresAt"  # hourly rows only: the table's time to live
HOURLY_RETENTION = timedelta(days=35)

THROTTLED = "throttled"  # requests answered 429 (also counted under their route and status)
DURATION_MS = "durationMs"  # the requests' handling time, milliseconds
READ_UNITS = "readUnits"  # DynamoDB read capacity units the tenant's requests consumed
WRITE_UNITS = "writeUnits"
SEPARATOR = "|"
REQUESTS_PREFIX = "req"
ITEMS_PREFIX = "items"
BYTES_PREFIX = "bytes"

_STATUS_TEXTS = frozenset(str(status) for status in range(100, 600))  # exact, ASCII only
_HOUR_FORMAT = "%Y-%m-%dT%H"
_DAY_FORMAT = "%Y-%m-%d"


class Granularity(StrEnum):
    """A period's length, and its key's prefix (before ``#``)."""

    HOUR = "H"
    DAY = "D"

    @property
    def length(self) -> timedelta:
        return timedelta(hours=1) if self is Granularity.HOUR else timedelta(days=1)


@dataclass(frozen=True)
class Period:
    granularity: Granularity
    start: datetime  # UTC, on the period's boundary

    @property
    def key(self) -> str:
        return period_key(self.granularity, self.start)

    @property
    def end(self) -> datetime:
        return self.start + self.granularity.length


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC. A naive datetime is refused: its zone would be a guess, and an hour's
    counts would land in another hour's row."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a time without a zone: {moment.isoformat()}")
    return moment.astimezone(UTC)


def period_start(granularity: Granularity, moment: datetime) -> datetime:
    """The start of the hour or day (UTC) that holds ``moment``."""
    moment = utc(moment)
    if granularity is Granularity.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def period_key(granularity: Granularity, moment: datetime) -> str:
    start = period_start(granularity, moment)
    fmt = _HOUR_FORMAT if granularity is Granularity.HOUR else _DAY_FORMAT
    return f"{granularity.value}#{start.strftime(fmt)}"


def hour_key(moment: datetime) -> str:
    """``H#2026-12-01T19``: the UTC hour that holds ``moment``."""
    return period_key(Granularity.HOUR, moment)


def day_key(moment: datetime | date) -> str:
    """``D#2026-12-01``: the UTC day that holds ``moment`` (a date is that day)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return period_key(Granularity.DAY, moment)


def parse_period(key: str) -> Period:
    """The period a key names; ``ValueError`` for anything else (a key is compared as text, so
    only the exact form is accepted: ``H#2026-12-01T7`` is not an hour)."""
    prefix, _, text = key.partition("#")
    try:
        granularity = Granularity(prefix)
        fmt = _HOUR_FORMAT if granularity is Granularity.HOUR else _DAY_FORMAT
        start = datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a usage period: {key!r}") from None
    if period_key(granularity, start) != key:
        raise ValueError(f"not a usage period: {key!r}")
    return Period(granularity, start)


ACTIVE_USERS = "activeUsers"  # on a month's row: distinct users with a request in that month
MONTH_PREFIX = "M"
USER_PREFIX = "U"
_MONTH_FORMAT = "%Y-%m"


def month_start(moment: datetime) -> datetime:
    """The first moment (UTC) of the month that holds ``moment``."""
    return period_start(Granularity.DAY, moment).replace(day=1)


def next_month(start: datetime) -> datetime:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_key(moment: datetime) -> str:
    """``M#2026-12``: the month's row, which counts its active users."""
    return f"{MONTH_PREFIX}#{month_start(moment).strftime(_MONTH_FORMAT)}"


def active_user_key(moment: datetime, user_name: str) -> str:
    """``U#2026-12#<user name>``: the marker of a user counted in that month."""
    if not user_name:
        raise ValueError("an active user needs a name")
    return f"{USER_PREFIX}#{month_start(moment).strftime(_MONTH_FORMAT)}#{user_name}"


def marker_expires_at(moment: datetime) -> int:
    """A month's user markers expire ``HOURLY_RETENTION`` after the month ends."""
    return int((next_month(month_start(moment)) + HOURLY_RETENTION).timestamp())


def is_usage_key(key: str) -> bool:
    """Whether ``key`` is a sort key this table's writers write (an hour, a day, a month's
    row or a user marker): what a listing's token may name."""
    prefix, _, rest = key.partition("#")
    if prefix in (MONTH_PREFIX, USER_PREFIX):
        month, _, user = rest.partition("#")
        try:
            datetime.strptime(month, _MONTH_FORMAT)
        except ValueError:
            return False
        return len(month) == 7 and (bool(user) if prefix == USER_PREFIX else not user
                                    and "#" not in rest)
    try:
        parse_period(key)
    except ValueError:
        return False
    return True


def expires_at(hour: datetime) -> int:
    """An hourly row's expiry (epoch seconds): ``HOURLY_RETENTION`` after its hour began."""
    return int((period_start(Granularity.HOUR, hour) + HOURLY_RETENTION).timestamp())


def _checked(part: str, what: str) -> str:
    if not part or SEPARATOR in part:
        raise ValueError(f"a usage {what} must be non-empty and without {SEPARATOR!r}: {part!r}")
    return part


def requests_attribute(route: str, status: int) -> str:
    """``req|GET /products|200``. ``route`` is the method and the route's template (``GET
    /products/{id}``), never the concrete path: one attribute per id would grow a row without
    bound (an item holds at most 400 KB)."""
    if not 100 <= status <= 599:
        raise ValueError(f"not an HTTP status: {status}")
    return SEPARATOR.join((REQUESTS_PREFIX, _checked(route, "route"), str(status)))


def items_attribute(kind: str) -> str:
    """``items|product``: the net change in a kind's stored items."""
    return SEPARATOR.join((ITEMS_PREFIX, _checked(kind, "kind")))


def bytes_attribute(kind: str) -> str:
    """``bytes|product``: the net change in the bytes a kind's stored items take."""
    return SEPARATOR.join((BYTES_PREFIX, _checked(kind, "kind")))


def parse_requests_attribute(name: str) -> tuple[str, int] | None:
    """(route, status) of a ``req|...`` name; None for any other attribute."""
    prefix, _, rest = name.partition(SEPARATOR)
    route, _, status = rest.rpartition(SEPARATOR)
    if prefix != REQUESTS_PREFIX or not route or status not in _STATUS_TEXTS:
        return None
    return route, int(status)


def parse_kind_attribute(name: str, prefix: str) -> str | None:
    """The kind of an ``items|<kind>`` or ``bytes|<kind>`` name (``prefix`` says which)."""
    head, _, kind = name.partition(SEPARATOR)
    return kind if head == prefix and kind else None

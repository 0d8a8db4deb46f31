"""The emulator's recording without the requests about resources that no longer exist.

Offboarding (#17) erases a tenant (its Cognito users or pool and its group, its API key, its
silo's tables and stack) and must then show that nothing of it is left in the emulator's
recording. Collapsing item writes (``emulator_server.collapse_items``) leaves a deleted item
nothing behind, but every other request stays: a deleted user's ``AdminCreateUser`` (its email,
the tenant id in its attributes), a deleted key's value, a deleted stack's template. Here each
recorded request is matched against the resources it names, and it is dropped when one of them
is gone. Gone is decided by asking the emulator (its live state), never by reading the log:
what the log says happened may have failed, been undone or been re-created under the same name.
A resource that exists keeps every request about it, in order (a user deleted and created again
under the same name keeps the requests of both), so the replay of what is kept ends where the
emulator is now:

- Cognito: a request naming a ``UserPoolId`` no live pool has; a ``CreateUserPool`` whose pool
  id (moto's HASH strategy derives it from the region and the request: ``pool_id_of``) is not
  live; a request naming a (pool, ``Username``) the pool does not hold, or a (pool,
  ``GroupName``) it has no more.
- DynamoDB: a request naming a table (``TableName``, ``ResourceArn``, a ``BatchWriteItem``'s
  tables) that does not exist, unless it is the ``DeleteTable`` of a table a kept stack creates.
- API Gateway keys: the ``CreateApiKey`` of a key no live key matches (its name, and its value
  when the request chose one); a request naming a key id that is not live. The emulator gives a
  replayed key a new id, so a recorded id names a key only until the next start (the recorded
  requests naming an earlier one already fail at replay: dropping them changes nothing).
- CloudFormation: a request naming a stack (``StackName``: a name or a stack id) that is not
  live, unless a table or pool that the stack created is (our stacks retain their tables, and
  the tables' items are replayed into them).

Everything else stays. Standard library only, like ``emulator_server.py``, which loads it by its
path (run as a script it has nothing of the checkout on its path).

For offboarding's proof: ``compact_now`` asks a running emulator to compact at once (``POST
/_local/compact``, answered when done; the server binds to 127.0.0.1 only) and
``recording_mentions`` counts the recorded requests that still mention a value.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

# Sends a request to the emulator: (method, path with query, headers, body) -> (status, body).
Call = Callable[[str, str, Mapping[str, str], bytes], tuple[int, bytes]]
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

COMPACT_PATH = "/_local/compact"
_COGNITO = "AWSCognitoIdentityProviderService."
_DYNAMODB = "DynamoDB_20120810."
_SCOPE = re.compile(r"Credential=[^/,\s]+/[^/]+/([^/]+)/([^/]+)/")  # region, service
_POOL_ID_LENGTH = 55  # moto cuts "<region>_<hash>" to this
_KEY_ID_PATH = re.compile(r"^/(?:apikeys|usageplans/[^/]+/keys)/([^/?]+)")
_TABLE_ARN = re.compile(r":table/([^/]+)")
# A reference: (kind, region, what it names).
Reference = tuple[str, str, tuple[str, ...]]


# --- reading the recording -----------------------------------------------------------------

def entry_of(line: str) -> dict[str, Any] | None:
    """A recorded request, or None for a line torn by a hard kill mid-write."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def decoded_body(entry: Mapping[str, object]) -> bytes:
    """A recorded request's body, as sent."""
    body = entry.get("body") or ""
    return base64.b64decode(str(body)) if entry.get("body_encoded") else str(body).encode()


def _headers(entry: Mapping[str, Any]) -> dict[str, str]:
    headers = entry.get("headers")
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def _scope(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(region, service) of a signed request's credential scope."""
    found = _SCOPE.search(headers.get("Authorization", ""))
    return (found.group(1), found.group(2)) if found else None


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _path(entry: Mapping[str, Any]) -> str:
    return urllib.parse.urlsplit(str(entry.get("url", ""))).path


def pool_id_of(region: str, create_user_pool: Mapping[str, Any]) -> str:
    """The id moto gives the pool a ``CreateUserPool`` request creates under
    ``MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY=HASH`` (``emulator.py`` sets it, so that replayed
    pools keep their ids): sha256 of the region, the name and the request as parsed."""
    digest = hashlib.sha256()
    for part in (region, create_user_pool.get("PoolName"), dict(create_user_pool)):
        digest.update(str(part).encode())
    return f"{region}_{digest.hexdigest()}"[:_POOL_ID_LENGTH]


def references(entry: Mapping[str, Any]) -> list[Reference]:
    """The resources a recorded request names, each of which must still exist for it to stay."""
    headers = _headers(entry)
    scope = _scope(headers)
    if scope is None:
        return []
    region, service = scope
    target = headers.get("X-Amz-Target", "")
    body = decoded_body(entry)
    if target.startswith(_COGNITO):
        return _cognito_references(region, target.removeprefix(_COGNITO), _json(body))
    if target.startswith(_DYNAMODB):
        return _dynamodb_references(region, target.removeprefix(_DYNAMODB), _json(body))
    if service == "apigateway":
        return _key_references(region, str(entry.get("method")), _path(entry), _json(body))
    if service == "cloudformation":
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        stack = form.get("StackName", [""])[0]
        return [("stack", region, (stack,))] if stack else []
    return []


def _cognito_references(region: str, action: str, body: dict[str, Any]) -> list[Reference]:
    if action == "CreateUserPool":
        return [("pool-create", region, (pool_id_of(region, body), str(body.get("PoolName"))))]
    pool = body.get("UserPoolId")
    if not isinstance(pool, str):
        return []
    found: list[Reference] = [("pool", region, (pool,))]
    if isinstance(body.get("Username"), str):
        found.append(("user", region, (pool, body["Username"])))
    if isinstance(body.get("GroupName"), str):
        found.append(("group", region, (pool, body["GroupName"])))
    return found


def _dynamodb_references(region: str, action: str, body: dict[str, Any]) -> list[Reference]:
    tables: list[str] = []
    if isinstance(body.get("TableName"), str):
        tables.append(body["TableName"])
    arn = _TABLE_ARN.search(str(body.get("ResourceArn", "")))
    if arn:
        tables.append(arn.group(1))
    if isinstance(body.get("RequestItems"), dict):
        tables.extend(str(name) for name in body["RequestItems"])
    kind = "table-delete" if action == "DeleteTable" else "table"
    return [(kind, region, (table,)) for table in tables]


def _key_references(region: str, method: str, path: str,
                    body: dict[str, Any]) -> list[Reference]:
    if method == "POST" and path == "/apikeys":
        value = body.get("value")
        return [("key-create", region, (str(body.get("name")),
                                        *([str(value)] if value else [])))]
    named = _KEY_ID_PATH.match(path)
    if named:
        return [("key", region, (urllib.parse.unquote(named.group(1)),))]
    if method == "POST" and re.fullmatch(r"/usageplans/[^/]+/keys", path) and body.get("keyId"):
        return [("key", region, (str(body["keyId"]),))]
    return []


# --- asking the emulator -------------------------------------------------------------------

class LiveState:
    """What the emulator holds now, asked once per region and service as needed, signed like
    the recorded request ``templates[(region, service)]`` (moto reads the account, region and
    service from its credential scope). Only reads: nothing of this is recorded."""

    def __init__(self, call: Call, templates: Mapping[tuple[str, str], Mapping[str, str]],
                 created_pool_ids: Mapping[str, set[str]]) -> None:
        self._call = call
        self._templates = templates
        self._created_pool_ids = created_pool_ids  # region -> ids the recorded creations derive
        self._cache: dict[tuple[str, ...], Any] = {}

    def _once(self, key: tuple[str, ...], load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def _ask(self, region: str, service: str, method: str, path: str,
             extra: Mapping[str, str], body: bytes, allowed: tuple[int, ...] = (200,),
             ) -> tuple[int, bytes]:
        headers = {name: value for name, value in self._templates[(region, service)].items()
                   if name.lower() not in ("content-length", "x-amz-target", "content-type",
                                           "transfer-encoding")}
        status, answer = self._call(method, path, headers | dict(extra), body)
        if status not in allowed:
            raise RuntimeError(f"compaction: {service} {method} {path} answered {status}: "
                               f"{answer[:300]!r}")
        return status, answer

    def _cognito(self, region: str, action: str, request: Mapping[str, Any],
                 allowed: tuple[int, ...] = (200,)) -> tuple[int, dict[str, Any]]:
        status, answer = self._ask(
            region, "cognito-idp", "POST", "/",
            {"X-Amz-Target": f"{_COGNITO}{action}",
             "Content-Type": "application/x-amz-json-1.1"},
            json.dumps(request).encode(), allowed)
        return status, _json(answer)

    def _cognito_pages(self, region: str, action: str, request: dict[str, Any], items: str,
                       cursor: str) -> Iterator[dict[str, Any]]:
        while True:
            _, page = self._cognito(region, action, request)
            yield from page.get(items, [])
            if not page.get(cursor):
                return
            request = request | {cursor: page[cursor]}

    def pools(self, region: str) -> dict[str, str]:
        """Live pool id -> name."""
        return dict(self._once(("pools", region), lambda: {
            str(pool["Id"]): str(pool["Name"]) for pool in self._cognito_pages(
                region, "ListUserPools", {"MaxResults": 60}, "UserPools", "NextToken")}))

    def pool_created(self, region: str, pool_id: str, name: str) -> bool:
        """Whether the pool a ``CreateUserPool`` made lives: its derived id is live or, should
        the ids not be derived (another strategy), a live pool of its name that no recorded
        creation derives."""
        pools = self.pools(region)
        if pool_id in pools:
            return True
        derived = self._created_pool_ids.get(region, set())
        return any(live_name == name and live_id not in derived
                   for live_id, live_name in pools.items())

    def user(self, region: str, pool: str, name: str) -> bool:
        if pool not in self.pools(region):
            return False
        listed: set[str] = self._once(("users", region, pool), lambda: {
            str(user["Username"]) for user in self._cognito_pages(
                region, "ListUsers", {"UserPoolId": pool, "Limit": 60}, "Users",
                "PaginationToken")})
        if name in listed:
            return True
        # An alias or another case of a live user's name is that user: the emulator decides.
        return bool(self._once(("user", region, pool, name), lambda: self._cognito(
            region, "AdminGetUser", {"UserPoolId": pool, "Username": name},
            (200, 400))[0] == 200))

    def group(self, region: str, pool: str, name: str) -> bool:
        if pool not in self.pools(region):
            return False
        return name in self._once(("groups", region, pool), lambda: {
            str(group["GroupName"]) for group in self._cognito_pages(
                region, "ListGroups", {"UserPoolId": pool, "Limit": 60}, "Groups",
                "NextToken")})

    def tables(self, region: str) -> set[str]:
        def load() -> set[str]:
            names: set[str] = set()
            request: dict[str, Any] = {}
            while True:
                _, answer = self._ask(region, "dynamodb", "POST", "/", {
                    "X-Amz-Target": f"{_DYNAMODB}ListTables",
                    "Content-Type": "application/x-amz-json-1.0"},
                    json.dumps(request).encode())
                page = _json(answer)
                names.update(str(name) for name in page.get("TableNames", []))
                if not page.get("LastEvaluatedTableName"):
                    return names
                request = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}
        return set(self._once(("tables", region), load))

    def keys(self, region: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            position = ""
            while True:
                query = "includeValues=true&limit=500" + (
                    f"&position={urllib.parse.quote(position)}" if position else "")
                _, answer = self._ask(region, "apigateway", "GET", f"/apikeys?{query}", {}, b"")
                page = _json(answer)
                found.extend(page.get("item", page.get("items", [])))
                position = str(page.get("position") or "")
                if not position:
                    return found
        return list(self._once(("keys", region), load))

    def _cloudformation(self, region: str, action: str, **params: str) -> ElementTree.Element:
        body = urllib.parse.urlencode({"Action": action, "Version": "2010-05-15", **params})
        _, answer = self._ask(region, "cloudformation", "POST", "/", {
            "Content-Type": "application/x-www-form-urlencoded"}, body.encode())
        return ElementTree.fromstring(answer)

    def _stack_summaries(self, region: str) -> list[tuple[str, str, str]]:
        """(name, id, status) of every stack, deleted ones too."""
        def load() -> list[tuple[str, str, str]]:
            found: list[tuple[str, str, str]] = []
            token: dict[str, str] = {}
            while True:
                page = self._cloudformation(region, "ListStacks", **token)
                found.extend((_text(member, "StackName"), _text(member, "StackId"),
                              _text(member, "StackStatus"))
                             for member in page.iterfind(".//{*}StackSummaries/{*}member"))
                next_token = _text(page, ".//{*}NextToken")
                if not next_token:
                    return found
                token = {"NextToken": next_token}
        return list(self._once(("stacks", region), load))

    def _stack_resources(self, region: str, stack_id: str) -> set[str]:
        return set(self._once(("resources", region, stack_id), lambda: {
            _text(member, "PhysicalResourceId") for member in self._cloudformation(
                region, "DescribeStackResources", StackName=stack_id).iterfind(
                ".//{*}StackResources/{*}member")}))

    def stack(self, region: str, name_or_id: str) -> bool:
        """Live, or one of its incarnations created a table or pool that is."""
        named = [(name, stack_id, status) for name, stack_id, status
                 in self._stack_summaries(region) if name_or_id in (name, stack_id)]
        if any(status != "DELETE_COMPLETE" for _, _, status in named):
            return True
        live = self.tables(region) | set(self.pools(region))
        return any(self._stack_resources(region, stack_id) & live
                   for _, stack_id, _ in named)

    def created_by_a_kept_stack(self, region: str, table: str, stacks: Iterable[str]) -> bool:
        return any(table in self._stack_resources(region, stack_id)
                   for name, stack_id, _ in self._stack_summaries(region)
                   if name in stacks or stack_id in stacks)

    def holds(self, reference: Reference) -> bool:
        kind, region, what = reference
        if kind == "pool":
            return what[0] in self.pools(region)
        if kind == "pool-create":
            return self.pool_created(region, *what)
        if kind == "user":
            return self.user(region, *what)
        if kind == "group":
            return self.group(region, *what)
        if kind in ("table", "table-delete"):
            return what[0] in self.tables(region)
        if kind == "key":
            return any(key.get("id") == what[0] for key in self.keys(region))
        if kind == "key-create":
            return any(key.get("name") == what[0] and (len(what) == 1 or key.get("value")
                                                        == what[1]) for key in self.keys(region))
        if kind == "stack":
            return self.stack(region, what[0])
        raise ValueError(f"unknown reference {kind}")


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path if path.startswith(".") else f"{{*}}{path}")
    return (found.text or "") if found is not None else ""


# --- compaction ----------------------------------------------------------------------------

def without_gone(lines: list[str], call: Call) -> list[str]:
    """The recording's lines without the requests about resources the emulator no longer
    holds (see the module's docstring); the rest in order. Torn lines are left to
    ``collapse_items``. Nothing may write while this runs."""
    parsed = [(line, entry_of(line)) for line in lines]
    templates: dict[tuple[str, str], dict[str, str]] = {}
    created: dict[str, set[str]] = {}
    named: list[list[Reference]] = []
    for _, entry in parsed:
        found = references(entry) if entry is not None else []
        named.append(found)
        if entry is not None and found:
            scope = _scope(_headers(entry))
            if scope is not None:
                templates.setdefault(scope, _headers(entry))
        for kind, region, what in found:
            if kind == "pool-create":
                created.setdefault(region, set()).add(what[0])
    # A table reference and a DynamoDB list need a DynamoDB template; a stack's retained
    # resources need the region's Cognito and DynamoDB ones: any template of the region will
    # do for a service whose requests were recorded with another (same account, same keys).
    for (region, _service), headers in list(templates.items()):
        for service in ("dynamodb", "cognito-idp", "apigateway", "cloudformation"):
            templates.setdefault((region, service), _rescoped(headers, service))
    live = LiveState(call, templates, created)
    kept_stacks = {reference[2][0] for found in named for reference in found
                   if reference[0] == "stack" and live.holds(reference)}

    def stays(reference: Reference) -> bool:
        kind, region, what = reference
        return live.holds(reference) or (kind == "table-delete" and live.created_by_a_kept_stack(
            region, what[0], kept_stacks))

    return [line for (line, _), found in zip(parsed, named, strict=True)
            if all(stays(reference) for reference in found)]


def _rescoped(headers: Mapping[str, str], service: str) -> dict[str, str]:
    """The headers of a request of another service, signed (unchecked) for ``service``."""
    authorization = re.sub(r"(Credential=[^/,\s]+/[^/]+/[^/]+/)[^/]+/", rf"\g<1>{service}/",
                           headers.get("Authorization", ""))
    return dict(headers) | {"Authorization": authorization}


def http_call(url: str) -> Call:
    """Requests to the emulator at ``url`` over HTTP (at start, when nothing is gated)."""
    base = url.rstrip("/")

    def call(method: str, path: str, headers: Mapping[str, str],
             body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{base}{path}", data=body or None, method=method,
                                         headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())
    return call


def client_call(client: Any) -> Call:
    """Requests straight to the server's WSGI app through a werkzeug test ``client`` (while
    running: the compaction holds every HTTP request back)."""
    def call(method: str, path: str, headers: Mapping[str, str],
             body: bytes) -> tuple[int, bytes]:
        answer = client.open(path, method=method, data=body, headers=dict(headers))
        return int(answer.status_code), bytes(answer.get_data())
    return call


# --- on demand, and the proof --------------------------------------------------------------

def on_demand(app: Wsgi, compact: Callable[[], object]) -> Wsgi:
    """``app`` that also answers ``POST /_local/compact`` by compacting now (outside the gate
    that the compaction closes), 200 when done, 500 with the error when it failed."""
    def routed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != COMPACT_PATH or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        try:
            compact()
        except Exception as error:
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [json.dumps({"error": repr(error)}).encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"compacted": true}']
    return routed


def compact_now(emulator_url: str) -> None:
    """Has the running emulator at ``emulator_url`` compact its recording now; returns when the
    rewritten file is in place. Raises RuntimeError when it could not (an emulator started
    without running compaction answers 404)."""
    request = urllib.request.Request(f"{emulator_url.rstrip('/')}{COMPACT_PATH}", data=b"",
                                     method="POST")
    try:
        urllib.request.urlopen(request, timeout=600).close()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"the emulator did not compact: {error.code} "
                           f"{error.read()[:300]!r}") from error


def recording_mentions(path: Path, needles: Iterable[str],
                       excused: Callable[[str], bool] = lambda text: False) -> dict[str, int]:
    """How many recorded requests mention each needle anywhere (url, headers, the body as sent:
    base64 bodies decoded, JSON escapes undone). Offboarding expects 0 for every value of an
    erased tenant after ``compact_now``; a request whose text ``excused`` accepts is not
    counted (what is kept by design: the tenant's tombstone names its id)."""
    counts = dict.fromkeys(needles, 0)
    if not path.exists():
        return counts
    for line in path.read_text().splitlines():
        entry = entry_of(line)
        if entry is None:
            text = line
        else:
            body = decoded_body(entry).decode(errors="replace")
            text = "\n".join((json.dumps(entry.get("headers"), ensure_ascii=False),
                              str(entry.get("url")), body,
                              urllib.parse.unquote_plus(body), _unescaped(body)))
        if excused(text):
            continue
        for needle in counts:
            if needle in text:
                counts[needle] += 1
    return counts


def _unescaped(body: str) -> str:
    """A JSON body's strings with their escapes undone (a needle spelt "\\u00e9" still counts)."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return ""

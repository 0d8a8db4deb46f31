"""moto's server as the emulator runs it: moto's own ``moto_server``, with a recorder that
writes only the requests that may change state.

moto's recorder appends every request it serves. A running platform mostly reads (listings,
the provisioner's poll every few seconds, sign-ins, credential vending), so the recording grew
with the traffic (an idle platform: about 17 MB a day) although start-up compaction dropped the
reads again. Filtering as they arrive keeps the recording proportional to the writes; the same
rule decides what start-up compaction keeps (``emulator.py`` imports it from here).

The DynamoDB capacity each response reports is entered per tenant (``capacity_ledger``, read
at ``GET /_local/capacity``). moto's memory is bounded here too (``bound_model_tracking``,
``TokenPruner``): what grew with the traffic was moto keeping every model object it ever made,
and every Cognito token it issued.

Run as a script (``lifeline.py`` runs it as it runs ``moto_server``): standard library and moto
only, so it needs nothing of the checkout on its path.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import io
import json
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.local_cloud import capacity_ledger, recording_compaction
else:  # by path: run as a script, this file has nothing of the checkout on its path
    def _beside(name: str) -> Any:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(
            f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    recording_compaction = _beside("recording_compaction")
    capacity_ledger = _beside("capacity_ledger")

# Requests that change no state: neither recorded nor replayed.
READ_TARGETS = frozenset({
    "DynamoDB_20120810.GetItem", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.Query",
    "DynamoDB_20120810.Scan", "DynamoDB_20120810.TransactGetItems",
    "DynamoDB_20120810.DescribeTable", "DynamoDB_20120810.ListTables",
    "DynamoDB_20120810.DescribeContinuousBackups", "DynamoDB_20120810.DescribeTimeToLive",
    "AWSCognitoIdentityProviderService.InitiateAuth",
    "AWSCognitoIdentityProviderService.AdminInitiateAuth",
    # Fails on replay anyway (its session id is random); the login tool also sets the new
    # password with AdminSetUserPassword, which replays.
    "AWSCognitoIdentityProviderService.RespondToAuthChallenge",
    "AWSCognitoIdentityProviderService.AdminRespondToAuthChallenge",
    "AWSCognitoIdentityProviderService.GetUser",
    "AWSCognitoIdentityProviderService.AdminGetUser",
    "AWSCognitoIdentityProviderService.ListUsers",
    "AWSCognitoIdentityProviderService.ListUsersInGroup",
    "AWSCognitoIdentityProviderService.ListGroups",
    "AWSCognitoIdentityProviderService.AdminListGroupsForUser",
    "AWSCognitoIdentityProviderService.ListUserPools",
    "AWSCognitoIdentityProviderService.DescribeUserPool",
    "AWSCognitoIdentityProviderService.ListUserPoolClients",
    "AWSCognitoIdentityProviderService.DescribeUserPoolClient",
})
READ_QUERY_ACTIONS = (b"Action=AssumeRole", b"Action=GetCallerIdentity", b"Action=GetRole",
                      b"Action=ListRoles", b"Action=GetRolePolicy", b"Action=DescribeStacks",
                      b"Action=DescribeStackResources", b"Action=DescribeStackEvents",
                      b"Action=ListStacks", b"Action=GetTemplate")


def changes_state(method: object, headers: object, body: bytes) -> bool:
    """Whether a request may change state (a read, a login or a credential never does)."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    # A dict when read back from the file, werkzeug's (case-insensitive) headers when served.
    target = headers.get("X-Amz-Target") if hasattr(headers, "get") else None
    if target in READ_TARGETS:
        return False
    return not body.startswith(READ_QUERY_ACTIONS)


def install_filter(after_write: Callable[[], None] = lambda: None) -> None:
    """Wrap moto's recorder: a request that changes nothing is not written. The body is read
    here (as moto's recorder reads it) and handed back to the request unconsumed."""
    from moto.moto_api import recorder

    record = recorder._record_request

    def record_changes(request: Any, body: bytes | None = None) -> None:
        if not recorder._user_enabled:
            return
        if body is None:
            try:
                size = int(request.headers["Content-Length"])
                body = request.environ["wsgi.input"].read(size)
            except (AttributeError, KeyError, ValueError):
                body = b""
            if isinstance(body, str):
                body = body.encode()
            request.environ["wsgi.input"] = io.BytesIO(body)
        if changes_state(request.method, request.headers, body or b""):
            record(request, body=body)
            after_write()

    recorder._record_request = record_changes  # type: ignore[method-assign]


# How a recorded request reads back: one reading, the compaction module's.
decoded_body = recording_compaction.decoded_body
entry_of = recording_compaction.entry_of


_DYNAMODB = "DynamoDB_20120810."
# Item writes: what the live items replace at compaction.
ITEM_WRITES = frozenset(f"{_DYNAMODB}{action}" for action in (
    "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
    "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"))
_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")  # access key, date, region
# Sends a DynamoDB request (headers, JSON body) to the emulator; returns the answer's body.
Send = Callable[[dict[str, str], bytes], bytes]


def _target(entry: dict[str, Any]) -> str:
    headers = entry.get("headers")
    return str(headers.get("X-Amz-Target", "")) if isinstance(headers, dict) else ""


def _region(entry: dict[str, Any]) -> str | None:
    """The region a signed request names (its credential scope)."""
    headers = entry.get("headers")
    found = _SCOPE.search(str(headers.get("Authorization", ""))) if isinstance(
        headers, dict) else None
    return found.group(2) if found else None


def _paged(send: Send, headers: dict[str, str], action: str, body: dict[str, Any],
           items: str, cursor: str, start: str) -> Iterator[Any]:
    while True:
        page = json.loads(send(headers | {"X-Amz-Target": f"{_DYNAMODB}{action}"},
                               json.dumps(body).encode()))
        yield from page.get(items, [])
        if not page.get(cursor):
            return
        body = body | {start: page[cursor]}


def _live_items(send: Send, url: str, template: dict[str, Any]) -> Iterator[str]:
    """PutItem entries of every item the emulator holds in one region, signed like the
    recorded request ``template`` (moto reads account and region from it)."""
    headers = {str(name): str(value) for name, value in template["headers"].items()
               if str(name).lower() not in ("content-length", "x-amz-target")}
    for table in list(_paged(send, headers, "ListTables", {}, "TableNames",
                             "LastEvaluatedTableName", "ExclusiveStartTableName")):
        for item in _paged(send, headers, "Scan", {"TableName": table, "ConsistentRead": True},
                           "Items", "LastEvaluatedKey", "ExclusiveStartKey"):
            body = json.dumps({"TableName": table, "Item": item}).encode()
            yield json.dumps({
                "headers": headers | {"X-Amz-Target": f"{_DYNAMODB}PutItem"},
                "method": "POST", "url": url,
                "body": base64.b64encode(body).decode(), "body_encoded": True})


def collapse_items(lines: list[str], send: Send, url: str,
                   call: recording_compaction.Call | None = None) -> list[str]:
    """The recording with its DynamoDB item writes replaced by the items the emulator holds
    now (an item written a thousand times is one line, a deleted item none). Every other
    request stays, in order: tables, pools, roles, stacks; the items come last, into the
    tables as they ended up. Torn lines go. Nothing may write while this runs. Requests about
    pools, users, groups, keys, tables or stacks that are gone go too (``recording_compaction``;
    ``call`` reaches the emulator, by default over HTTP at ``url``)."""
    lines = recording_compaction.without_gone(lines, call or recording_compaction.http_call(url))
    kept: list[str] = []
    # One scan per region, signed as the region's first DynamoDB request (the platform's own
    # key): every access key of the local platform, STS-vended ones too, is the one account's,
    # and a scan per key would write each item once per key.
    templates: dict[str, dict[str, Any]] = {}
    for line in lines:
        entry = entry_of(line)
        if entry is None:
            continue
        target = _target(entry)
        region = _region(entry) if target.startswith(_DYNAMODB) else None
        if region is not None:
            templates.setdefault(region, entry)
        if target not in ITEM_WRITES:
            kept.append(line)
    for template in templates.values():
        kept.extend(_live_items(send, url, template))
    return kept


def replace_file(path: Path, lines: list[str]) -> None:
    """Written whole, then renamed: a kill mid-way leaves the old file."""
    temporary = path.with_suffix(".compacting")
    temporary.write_text("".join(f"{line}\n" for line in lines))
    temporary.replace(path)


class Gate:
    """Requests pass together; compaction passes alone (it must see no write half-done, and
    none may be appended to the file it replaces). A waiting compaction holds new requests
    back, so a busy server still compacts."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._passing = 0
        self._closing = False

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: not self._closing)
            self._passing += 1
        try:
            yield
        finally:
            with self._lock:
                self._passing -= 1
                self._lock.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: not self._closing)
            self._closing = True
            self._lock.wait_for(lambda: self._passing == 0)
        try:
            yield
        finally:
            with self._lock:
                self._closing = False
                self._lock.notify_all()


class RunningCompaction:
    """Compacts the recording while the server runs, each time it has grown by its own size
    since the last compaction (and by at least ``floor`` bytes): the file stays under twice the
    live state plus ``floor``, and the work done stays proportional to the writes."""

    def __init__(self, app: Any, recording: Path, floor: int, url: str) -> None:
        from werkzeug.test import Client

        self.app, self.recording, self.floor, self.url = app, recording, floor, url
        self.gate = Gate()
        self.compacted_size = self._size()
        self.compactions = 0
        self._client = Client(app)
        self._due = threading.Event()
        threading.Thread(target=self._run, name="compaction", daemon=True).start()

    def _size(self) -> int:
        try:
            return self.recording.stat().st_size
        except OSError:
            return 0

    def wrap(self, app: Any) -> Any:
        def gated(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            with self.gate.request():
                answer = app(environ, start_response)
                try:
                    return list(answer)
                finally:
                    if hasattr(answer, "close"):
                        answer.close()
        return gated

    def written(self) -> None:
        """After each recorded request: compaction is due once the file doubled."""
        if self._size() > self.compacted_size + max(self.floor, self.compacted_size):
            self._due.set()

    def _send(self, headers: dict[str, str], body: bytes) -> bytes:
        answer = self._client.post("/", data=body, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"compaction: {answer.status_code} {answer.get_data()!r}")
        return bytes(answer.get_data())

    def compact(self) -> None:
        with self.gate.alone():
            lines = self.recording.read_text().splitlines() if self._size() else []
            replace_file(self.recording, collapse_items(
                lines, self._send, self.url, recording_compaction.client_call(self._client)))
            self.compacted_size = self._size()
            self.compactions += 1

    def _run(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            try:
                self.compact()
            except Exception as error:  # the server keeps serving; next time may succeed
                print(f"compaction failed: {error!r}", file=sys.stderr, flush=True)


class LiveInstances:
    """What moto's ``instances_tracked`` becomes: the instances still alive, weakly held.

    moto appends every model object it creates to a list on its class, for its
    ``/moto-api/data.json`` dashboard only, and never lets go: every DynamoDB item written, and
    every deep copy of the items a query or scan returns, stayed in memory for good (the
    emulator grew about 1.3 MiB per 1,000 requests of constant data, more with longer
    listings). Weak references keep the dashboard true to the live state while letting the
    copies go; dead references are dropped each time the list doubles, so it stays under
    twice the live objects."""

    def __init__(self, instances: Iterable[object] = ()) -> None:
        self._lock = threading.Lock()
        self._references: list[weakref.ref[object]] = []
        self._prune_at = 64
        for instance in instances:
            self.append(instance)

    def append(self, instance: object) -> None:
        try:
            reference = weakref.ref(instance)
        except TypeError:  # a class without weak references: not listed on the dashboard
            return
        with self._lock:
            self._references.append(reference)
            if len(self._references) >= self._prune_at:
                self._references = [ref for ref in self._references if ref() is not None]
                self._prune_at = max(64, 2 * len(self._references))

    def __iter__(self) -> Iterator[object]:
        with self._lock:
            references = list(self._references)
        return iter([instance for ref in references if (instance := ref()) is not None])

    def __len__(self) -> int:
        with self._lock:
            return len(self._references)


def bound_model_tracking() -> None:
    """moto's model classes track their instances in a ``LiveInstances`` from now on (each
    class's own list is replaced at its first new instance: moto creates the classes as it
    imports each service, and its reset puts plain lists back)."""
    from moto.core.common_models import BaseModel

    create = BaseModel.__new__

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(cls.__dict__.get("instances_tracked"), LiveInstances):
            cls.instances_tracked = LiveInstances(  # type: ignore[attr-defined]
                cls.__dict__.get("instances_tracked", ()))
        return create(cls, *args, **kwargs)

    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


_MISSING = object()


def token_expiry(token: str) -> float | None:
    """A JWT's ``exp`` claim (unverified: the emulator issued it), or None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def prune_tokens(pool: Any, now: float, cap: int) -> int:
    """Drop from one moto user pool the tokens that can no longer serve, returns how many.

    moto keeps every access, ID and refresh token it issues in dicts on the pool, forever:
    each sign-in (and refresh) added three. Access and ID tokens past their ``exp`` go (moto
    never checks expiry; Cognito and our authorizer refuse them). Beyond ``cap`` per kind,
    the oldest go first (the dicts keep issue order): refresh tokens carry no expiry in moto,
    and a long run of sign-ins would otherwise keep every one. The newest ``cap`` of each
    kind stay, so any token a client is still using (its latest sign-ins) keeps working."""
    dropped = 0
    for name in ("access_tokens", "id_tokens", "refresh_tokens"):
        tokens = getattr(pool, name, None)
        if not isinstance(tokens, dict):
            continue
        issued = list(tokens)  # a snapshot: requests may add tokens meanwhile
        stale = set(issued[:max(0, len(issued) - cap)])
        if name != "refresh_tokens":
            stale.update(token for token in issued
                         if (expiry := token_expiry(token)) is not None and expiry <= now)
        for token in stale:
            if tokens.pop(token, _MISSING) is not _MISSING:  # a revoked refresh token is None
                dropped += 1
    return dropped


class TokenPruner:
    """Prunes every moto user pool's tokens every ``interval`` seconds (``prune_tokens``)."""

    def __init__(self, interval: float = 60.0, cap: int = 1000) -> None:
        self.interval, self.cap = interval, cap
        self.pruned = 0

    def prune(self) -> int:
        from moto.cognitoidp.models import cognitoidp_backends

        now, dropped = time.time(), 0
        for backends in list(cognitoidp_backends.values()):
            for backend in list(backends.values()):
                for pool in list(backend.user_pools.values()):
                    dropped += prune_tokens(pool, now, self.cap)
        self.pruned += dropped
        return dropped

    def start(self) -> None:
        def run() -> None:
            while True:
                time.sleep(self.interval)
                try:
                    self.prune()
                except Exception as error:  # the server keeps serving; next time may succeed
                    print(f"token pruning failed: {error!r}", file=sys.stderr, flush=True)
        threading.Thread(target=run, name="token-pruning", daemon=True).start()


def main(argv: list[str]) -> None:
    """``moto_server``'s arguments, plus ``--compact-floor BYTES``: compact the recording
    while running (0: never)."""
    import moto.server
    from moto.moto_api import recorder

    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--compact-floor", type=int, default=0)
    ours.add_argument("-H", "--host", default="127.0.0.1")
    ours.add_argument("-p", "--port", type=int, default=5000)
    options, _ = ours.parse_known_args(argv)
    bound_model_tracking()
    TokenPruner().start()
    moto_argv = [arg for index, arg in enumerate(argv)
                 if arg != "--compact-floor" and argv[index - 1:index] != ["--compact-floor"]]
    serve = moto.server.run_simple  # type: ignore[attr-defined]
    ledger = capacity_ledger.CapacityLedger()

    def run_simple(host: str, port: int, app: Any, **settings: Any) -> None:
        if not options.compact_floor:
            install_filter()
            serve(host, port, ledger.wrap(app), **settings)
            return
        compaction = RunningCompaction(app, Path(recorder._location),
                                       options.compact_floor, f"http://{host}:{port}/")
        install_filter(compaction.written)
        serve(host, port, ledger.wrap(recording_compaction.on_demand(
            compaction.wrap(app), compaction.compact)), **settings)

    moto.server.run_simple = run_simple  # type: ignore[attr-defined,assignment]
    moto.server.main(moto_argv)


if __name__ == "__main__":
    # Run as a script, its folder is first on the path: its modules must not shadow moto's.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    main(sys.argv[1:])

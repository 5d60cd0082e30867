"""The HTTP service (HTTP.md): FastAPI on uvicorn, one Ledger per worker process.

`create_app()` is the uvicorn factory: each worker opens the store named by
LEDGER_STORE (with LEDGER_POLICY and LEDGER_CLOCK, as every subcommand), so several
workers share one PostgreSQL database. Handlers are plain functions run in the server's
thread pool; one lock per process keeps the Ledger's connections to one caller at a time.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api_keys import ApiKey, StoreKeys
from ledger.application import Ledger
from ledger.commands import COMMAND_KINDS, COMMAND_MODELS, MARKETPLACE_OPERATION, command_kind
from ledger.errors import LedgerError, StoredEventsUnreadable
from ledger.outcomes import parse, raw_field, rejected
from ledger.redaction import escape_text
from ledger.results import AccountView, IfVersion, Result, to_jsonable
from ledger.screening import contains_pan, decode_json
from ledger.store_errors import store_failure_types
from ledger.stores import MAX_POSITION
from projections.feed import ACCOUNT_EVENTS, read_feed
from service import metrics
from service.problems import OrjsonResponse as JSONResponse
from service.problems import document_problems, problem, result_problem, status_of

MAX_BODY = 1_000_000
MAX_BATCH = 10_000
log = logging.getLogger("ledger.http")

Limit = Annotated[int, Query(ge=1, le=1000)]
Position = Annotated[int, Query(ge=0, le=MAX_POSITION)]
# HTTP.md names the path parameter `{id}`; the handlers call it what it is.
AccountId = Annotated[str, Path(alias="id", description="the account's id")]


class _Held:
    """The worker's Ledger, its key directory and the lock that serialises their use."""

    def __init__(self) -> None:
        self.ledger: Ledger | None = None
        self._keys: StoreKeys | None = None
        self.lock = threading.RLock()

    @contextmanager
    def use(self) -> Iterator[Ledger]:
        with self.lock:
            if self.ledger is None:
                self.ledger = Ledger.open()
                self._keys = StoreKeys(self.ledger)
            yield self.ledger

    @contextmanager
    def keys(self) -> Iterator[StoreKeys]:
        with self.use():
            assert self._keys is not None
            yield self._keys

    def close(self) -> None:
        with self.lock:
            if self.ledger is not None:
                self.ledger.close()
            self.ledger = self._keys = None


HELD = _Held()


class Unauthorized(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        self.status, self.code, self.detail = status, code, detail


# Answered without a key (load balancers, orchestrators).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})


def _bearer(request: Request) -> ApiKey:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(401, "unauthenticated", "send Authorization: Bearer <key secret>")
    with HELD.keys() as keys:
        key = keys.by_secret(secret.strip())
    if key is None:
        raise Unauthorized(401, "unauthenticated", "the key is unknown or revoked")
    request.state.principal = key.key_id
    return key


def scoped(scope: str) -> Callable[[Request], ApiKey]:
    def check(request: Request) -> ApiKey:
        key = _bearer(request)
        if scope not in key.scopes:
            # HTTP.md's 403 code: a key without the scope is not authorized.
            raise Unauthorized(403, "not_authorized",
                               f"this key does not have the {scope} scope")
        return key
    return check


def any_key(request: Request) -> ApiKey:
    return _bearer(request)


# -- OpenAPI: command bodies are the ledger's own models --------------------------------

_COMMAND_SCHEMA: dict[str, Any] = {}


def _command_schema() -> dict[str, Any]:
    if not _COMMAND_SCHEMA:
        union: Any = COMMAND_MODELS[0]
        for model in COMMAND_MODELS[1:]:
            union = union | model
        _COMMAND_SCHEMA.update(TypeAdapter(union).json_schema(
            ref_template="#/components/schemas/{model}"))
    return _COMMAND_SCHEMA


def _body_doc(array: bool = False) -> dict[str, Any]:
    one = {"oneOf": _command_schema()["anyOf"]}
    schema = {"type": "array", "items": one, "maxItems": MAX_BATCH} if array else one
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


_COMMAND_HEADERS = [
    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "the command's command_id; a repeat answers as the first time did"},
    {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "the account's ETag (its version); otherwise 412 version_mismatch"},
]


class Page(BaseModel):
    model_config = ConfigDict(extra="allow")
    data: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


class BillingRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    through: date


class AuditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    through: str | None = None
    anchors: list[dict[str, Any]] = []


# -- the app -----------------------------------------------------------------------------

def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        with HELD.use():
            pass  # open the store at start: a bad URL fails the worker, not a request
        stop = _start_delivery()
        yield
        stop()
        HELD.close()

    if not log.handlers:  # one JSON line per request on standard error
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    # No redirect for a trailing slash: an unknown path is 404 (HTTP.md), and a
    # redirect would name plain http behind the TLS proxy.
    app = FastAPI(title="Subscription ledger", version="2", lifespan=lifespan,
                  default_response_class=JSONResponse, redirect_slashes=False,
                  description="The ledger's HTTP API: commands, views, the event feed.")
    _errors(app)
    _middleware(app)
    _routes(app)
    _include_optional(app)
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                _command_schema().get("$defs", {}))
            document_problems(schema, PUBLIC_PATHS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _start_delivery() -> Callable[[], None]:
    """The webhook delivery loop inside `serve` (unless --no-deliver), when built."""
    if os.environ.get("LEDGER_SERVE_DELIVER", "1") != "1":
        return lambda: None
    from webhooks.runner import start_delivery_loop

    stopping = threading.Event()
    thread = start_delivery_loop(os.environ.get("LEDGER_STORE"), stopping)

    def stop() -> None:
        stopping.set()
        thread.join(timeout=15)

    return stop


def _include_optional(app: FastAPI) -> None:
    try:
        from service.routes_webhooks import router
    except ImportError:
        pass
    else:
        app.include_router(router)
    try:
        from service.console import make_console_router
        from service.console.sessions import Signer
    except ImportError:
        return
    secret = os.environ.get("LEDGER_CONSOLE_SECRET")
    signer = Signer(secret.encode()) if secret else Signer()

    def ledger_of() -> Ledger:
        with HELD.use() as ledger:
            return ledger

    app.include_router(make_console_router(ledger_of, _LockedKeys(), signer,
                                           hold=lambda: HELD.lock))


class _LockedKeys:
    def by_secret(self, secret: str) -> ApiKey | None:
        with HELD.keys() as keys:
            return keys.by_secret(secret)

    def by_id(self, key_id: str) -> ApiKey | None:
        with HELD.keys() as keys:
            return keys.by_id(key_id)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(exc.status, exc.code, exc.detail,
                       "R-1.4" if exc.status == 403 else "", headers=headers)

    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        return problem(status_of(exc.code), exc.code, exc.message, exc.rule)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in e["loc"][1:]) + ": " + str(e["msg"])
                  for e in exc.errors()]
        return problem(422, "validation_error", "; ".join(fields) or "invalid request",
                       "R-8.4")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _in_console(request.url.path) and exc.status_code in CONSOLE_NOTICES:
            # A person's browser: the console's own page, with a way back, not JSON.
            from service.console.routes import page

            title, message = CONSOLE_NOTICES[exc.status_code]
            answer = page("error.html", exc.status_code, title=title, message=message,
                          session=None)
            answer.headers.update(dict(exc.headers or {}))  # a 405's Allow
            return answer
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (too deep, not JSON): like every other
            # body the service cannot read, a validation error (INTERFACE.md's codes).
            return problem(422, "validation_error", "the body is not JSON the service can "
                           "read", "R-8.4")
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error")
        # Starlette's own headers go along (a 405's `Allow`, RFC 9110), HEAD named
        # wherever GET is, as every GET path answers it.
        headers = dict(exc.headers) if exc.headers else {}
        allowed = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
        if exc.status_code == 405:
            allowed = _methods_of_path(request, allowed)
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        if allowed:
            headers["Allow"] = ", ".join(allowed)
        return problem(exc.status_code, code, str(exc.detail), "", headers=headers or None)

    @app.exception_handler(ValueError)
    async def out_of_range(_: Request, exc: ValueError) -> JSONResponse:
        # The ledger's own refusals of a value (an instant out of its range, a bad
        # policy date); never a traceback, never the value's internals.
        first = str(exc).splitlines()[0][:200] if str(exc) else "invalid value"
        return problem(422, "validation_error", first, "R-8.4")

    async def store_down(_: Request, exc: Exception) -> Response:
        # The store is down or unreachable: the service itself is fine, try later (as
        # /readyz says); nothing was half-written, each command is one transaction.
        # Registered by class so that it answers inside the app: the catch-all below
        # runs in Starlette's outermost layer, which re-raises after answering.
        log.error(json.dumps({"error": type(exc).__name__, "store": "unavailable"}))
        return problem(503, "store_unavailable", "the store does not answer; try again",
                       "", headers={"Retry-After": "5"})

    for failure in store_failure_types():
        app.add_exception_handler(failure, store_down)

    @app.exception_handler(StoredEventsUnreadable)
    async def damaged(_: Request, exc: StoredEventsUnreadable) -> JSONResponse:
        # An altered log: the service is not at fault, nor the caller; say which account.
        log.error(json.dumps({"error": "StoredEventsUnreadable", "detail": str(exc)}))
        return problem(500, "internal_error", str(exc), "R-8.8")

    @app.exception_handler(Exception)
    async def failed(_: Request, exc: Exception) -> JSONResponse:
        log.error(json.dumps({"error": type(exc).__name__}))
        return problem(500, "internal_error", "the ledger could not answer; try again", "")


def _middleware(app: FastAPI) -> None:
    app.add_middleware(LimitsAndLog)


class LimitsAndLog:
    """Body limit, the NUL check, `X-Request-Id`, one JSON log line and the latency figure
    for every request. A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` (what
    `@app.middleware` makes) runs each request in a task and a stream of its own, which
    measured here as a third of the server's time on a trivial request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        # Starlette's `request.state` is this dict: handlers fill in who and which command.
        state = scope.setdefault("state", {})
        state.update(request_id=request_id, principal=None, command_id=None)
        status = 500

        method = scope["method"]
        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()),
                                      (b"x-request-id", request_id.encode())]
            elif method == "HEAD" and message.get("body"):
                message = {**message, "body": b""}  # the headers of a GET, no content
            await send(message)

        try:
            refusal = _refusal(scope)
            # RFC 9110 9.3.2: HEAD answers as GET would, without the content, on every
            # path (load balancers and uptime checks probe with it). OpenAPI lists GET.
            inner = {**scope, "method": "GET"} if method == "HEAD" else scope
            inner = _as_json_body(inner)
            await (refusal or self.app)(inner, receive, send_with_id)
        finally:
            ms = (time.perf_counter() - started) * 1000
            path = scope["path"]
            if contains_pan(path):  # a card number pasted into a URL is not logged
                path = "(a path holding a card number)"
            log.info(orjson.dumps({"request_id": request_id, "method": method,
                                 "path": path, "principal": state.get("principal"),
                                 "command_id": state.get("command_id"), "status": status,
                                 "ms": round(ms, 1)}).decode())
            metrics.REQUESTS.labels(method, str(status)).observe(ms / 1000)


def _as_json_body(scope: Scope) -> Scope:
    """Every body of the API is JSON, whatever its Content-Type says: `curl -d` sends
    form encoding, other clients none. The commands endpoints always read the body as
    JSON; the others (billing runs, audits, webhook endpoints) are told it is, so all
    answer alike. The console's forms (under /console) are left as they are."""
    if scope["method"] not in ("POST", "PUT", "PATCH") or not scope["path"].startswith("/v1/"):
        return scope
    given = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    if b"json" in given.lower():
        return scope
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


CONSOLE_NOTICES = {404: ("No such page", "There is no such page in the console."),
                   405: ("Not allowed", "This page does not take that kind of request.")}


def _in_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


def _refusal(scope: Scope) -> Response | None:
    """What is refused before any handler: a body over 1 MB by its length, a NUL."""
    length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return problem(413, "too_large", "bodies are at most 1 MB", "")
    query: bytes = scope.get("query_string", b"")
    if "\x00" in scope["path"] or b"\x00" in query or b"%00" in query:
        # No account id, filter or cursor holds a NUL (PostgreSQL text cannot).
        if _in_console(scope["path"]):
            from service.console.routes import page

            return page("error.html", 422, title="validation_error", session=None,
                        message="An address holding a NUL character is not one the "
                                "console can read.")
        return problem(422, "validation_error",
                       "the path and the query may not hold a NUL character", "R-8.4")
    return None


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise StarletteHTTPException(413, "bodies are at most 1 MB")
    try:
        return decode_json(body.decode("utf-8", "replace"))
    except LedgerError:
        return body.decode("utf-8", "replace")  # the ledger answers validation_error


def _not_an_object() -> Result:
    # A batch element that is a string is a JSON string, not JSON text to decode (as
    # `Ledger.submit` would take a str): the ledger's own refusal of what is no object.
    refused = parse(None)
    assert isinstance(refused, Result)
    return refused


WRITE_SCOPES = frozenset({"accounts:write", "operations:write"})


def _authorize_command(key: ApiKey, raw: Any) -> tuple[Any, Result | None]:
    """R-1.4 by scope, R-1.5's `--actor` binding: the command (actor filled in) or its
    not_authorized result. Unparseable input goes on to the ledger's own validation."""
    if not key.scopes & WRITE_SCOPES:
        # a key that may send no command at all is refused before its body is
        # read, whatever the body holds (HTTP.md: the endpoint's scope is missing).
        return raw, rejected(raw_field(raw, "command_id"), raw_field(raw, "account_id"),
                             LedgerError("not_authorized", "this key may send no commands "
                                         "(needs accounts:write or operations:write)",
                                         rule="R-1.4"))
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return raw, None
    try:
        kind = command_kind(raw["type"])
    except KeyError:
        return raw, None
    needed = "operations:write" if kind == MARKETPLACE_OPERATION else "accounts:write"

    def refuse(message: str) -> Result:
        return rejected(raw_field(raw, "command_id"), raw_field(raw, "account_id"),
                        LedgerError("not_authorized", message, rule="R-1.4"))

    if needed not in key.scopes:
        if _invalid(raw):
            return raw, None  # validation_error comes before not_authorized
        return raw, refuse(f"this key may not send {raw['type']} (needs {needed})")
    return _bound_actor(key, raw, kind)


def _conflict_first(ledger: Ledger, raw: Any, refusal: Result) -> Result:
    """R-8.5 puts idempotency_conflict before not_authorized: a key's refusal gives way
    to it (it says nothing of an account, only that the id was used for other content).
    A same-content repeat from a key that may not send it stays refused."""
    if refusal.error is None or refusal.error.code != "not_authorized":
        return refusal
    prior = ledger.prior_answer(raw)
    if prior is not None and prior.error is not None \
            and prior.error.code == "idempotency_conflict":
        return prior
    return refusal


def _invalid(raw: Any) -> bool:
    """Whether the ledger would refuse `raw` as it reads it (validation_error, R-8.5's
    first answer, or pan_not_allowed): a scope or actor refusal waits behind it. The key
    checks still come before the account is looked up, so that a refusal never says
    whether an account exists (HTTP.md)."""
    return isinstance(parse(raw), Result)


def _bound_actor(key: ApiKey, raw: dict[str, Any], kind: str) -> tuple[Any, Result | None]:
    """R-1.5: a key made with `--actor` acts only as that person, whose id `actor`
    defaults to (commands and previews alike)."""
    if key.actor is None or kind == MARKETPLACE_OPERATION:
        return raw, None
    if raw.get("actor", key.actor) != key.actor:
        if _invalid(raw):
            return raw, None  # validation_error comes first
        return raw, rejected(raw_field(raw, "command_id"), raw_field(raw, "account_id"),
                             LedgerError("not_authorized", f"this key acts only as {key.actor}",
                                         rule="R-1.5"))
    return {**raw, "actor": key.actor}, None


def _bound_preview(key: ApiKey, raw: Any) -> tuple[Any, Result | None]:
    if not isinstance(raw, dict) or raw.get("type") not in COMMAND_KINDS:
        return raw, None
    return _bound_actor(key, raw, command_kind(raw["type"]))


def _routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        try:
            with HELD.use() as ledger:
                ledger.recorder.max_notification_id()
        except Exception:
            return problem(503, "store_unavailable", "the store does not answer", "",
                           headers={"Retry-After": "5"})  # as every /v1 path says it
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics_text(_: ApiKey = Depends(scoped("metrics"))) -> Response:  # noqa: B008
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    # The two headers are read from the request, not declared as FastAPI parameters
    # (whose per-request solving measured as a twentieth of this route's time); the
    # OpenAPI document names them all the same.
    @app.post("/v1/commands", tags=["commands"], response_model=Result,
              openapi_extra={**_body_doc(), "parameters": _COMMAND_HEADERS},
              responses={402: {}, 403: {}, 404: {}, 409: {}, 412: {}, 422: {}})
    async def post_command(request: Request) -> Response:
        idempotency_key = request.headers.get("idempotency-key")
        if_match = request.headers.get("if-match")
        key = any_key(request)
        raw = await _json_body(request)
        if idempotency_key is not None and isinstance(raw, dict):
            if raw.get("command_id", idempotency_key) != idempotency_key:
                return problem(422, "validation_error",
                               "Idempotency-Key and command_id differ", "R-8.3",
                               command_id=idempotency_key,
                               account_id=raw_field(raw, "account_id"), events=[])
            raw = {**raw, "command_id": idempotency_key}
        raw, refusal = _authorize_command(key, raw)
        request.state.command_id = raw_field(raw, "command_id")
        if refusal is not None:
            with HELD.use() as ledger:
                refusal = _conflict_first(ledger, raw, refusal)
            return result_problem(refusal.to_json())
        with HELD.use() as ledger:
            result = ledger.submit(raw, principal=key.key_id,
                                   if_version=None if if_match is None else _if_version(if_match))
        metrics.count_command(raw, result)
        answer = result.to_json()
        if not result.ok:
            return result_problem(answer)
        headers = {"Idempotent-Replayed": "true"} if result.duplicate else {}
        return JSONResponse(answer, headers=headers)

    @app.post("/v1/commands/batch", tags=["commands"], response_model=list[Result],
              openapi_extra=_body_doc(array=True))
    async def post_batch(request: Request) -> Response:
        key = any_key(request)
        raw = await _json_body(request)
        if not isinstance(raw, list):
            return problem(422, "validation_error", "send a JSON array of commands", "R-8.4")
        if len(raw) > MAX_BATCH:
            return problem(413, "too_large", f"a batch holds at most {MAX_BATCH} commands", "")
        checked = [_authorize_command(key, c) if isinstance(c, dict) else (c, _not_an_object())
                   for c in raw]
        allowed = [c for c, refusal in checked if refusal is None]
        with HELD.use() as ledger:
            checked = [(c, None if r is None else _conflict_first(ledger, c, r))
                       for c, r in checked]
            decided = iter(ledger.submit_many(allowed, principal=key.key_id))
        results = [refusal if refusal is not None else next(decided) for _, refusal in checked]
        for (c, _), r in zip(checked, results, strict=True):
            metrics.count_command(c, r)
        # Each result as `ledger submit` prints it, with its 1-based place (`line`).
        return JSONResponse([{**r.to_json(), "line": n}
                             for n, r in enumerate(results, start=1)])

    @app.post("/v1/commands/preview", tags=["commands"], openapi_extra=_body_doc())
    async def post_preview(request: Request) -> Response:
        key = scoped("accounts:read")(request)
        body = await _json_body(request)
        if not isinstance(body, dict):
            # Not a command at all: the request is refused. A command the ledger would
            # reject is a preview like any other (200, `ok: false`, as `submit --preview`).
            return problem(422, "validation_error", "a preview's body is one JSON object "
                           "(a command)", "R-8.4")
        raw, refusal = _bound_preview(key, body)
        if refusal is not None:
            return result_problem(refusal.to_json())
        with HELD.use() as ledger:
            return JSONResponse(ledger.preview(raw, principal=key.key_id))

    @app.get("/v1/accounts", tags=["accounts"], response_model=Page)
    def list_accounts(kind: str | None = None, plan: str | None = None,
                      status: str | None = None, prefix: str | None = None,
                      limit: Limit = 100, cursor: str | None = None,
                      _: ApiKey = Depends(scoped("accounts:read"))) -> Any:  # noqa: B008
        from service.queries import list_accounts as query

        with HELD.use() as ledger:
            return query(ledger, kind=kind, plan=plan, status=status, prefix=prefix,
                         limit=limit, cursor=cursor).to_json()

    @app.get("/v1/accounts/{id}", tags=["accounts"], response_model=AccountView)
    def get_account(account_id: AccountId, as_of: str | None = None, known_at: str | None = None,
                    _: ApiKey = Depends(scoped("accounts:read"))) -> Response:  # noqa: B008
        with HELD.use() as ledger:
            view = ledger.account(account_id, as_of=_instant(as_of), known_at=_instant(known_at))
        return JSONResponse(view.to_json(), headers={"ETag": f'"{view.version}"'})

    @app.get("/v1/accounts/{id}/events", tags=["accounts"], response_model=Page)
    def account_events(account_id: AccountId, after_version: Position = 0,
                       limit: Limit = 100, cursor: str | None = None,
                       _: ApiKey = Depends(scoped("accounts:read"))) -> Any:  # noqa: B008
        from service.queries import account_events as query

        with HELD.use() as ledger:
            page = query(ledger, account_id, after_version=_resume(cursor, after_version),
                         limit=limit)
        return to_jsonable(page.to_json())

    @app.get("/v1/accounts/{id}/statement", tags=["accounts"])
    def account_statement(request: Request, account_id: AccountId,
                          from_: Annotated[str | None, Query(
                              alias="from", description="an ISO 8601 date (the whole day)"
                              " or datetime (that instant)")] = None,
                          to: Annotated[str | None, Query(
                              description="as `from`; a date includes its whole day")] = None,
                          _: ApiKey = Depends(scoped("accounts:read"))) -> Response:  # noqa: B008
        from replay_tools.statement import bounds_in_order, render_csv, row_json
        from service.queries import account_statement as query

        start, end = _statement_bound(from_, "from"), _statement_bound(to, "to")
        if not bounds_in_order(start, end):
            raise LedgerError("validation_error", f"from {escape_text(from_ or '')} is after "
                              f"to {escape_text(to or '')}", rule="R-8.4")
        with HELD.use() as ledger:
            ledger.account(account_id)  # unknown_account before anything else
            rows = query(ledger, account_id, start, end)
        if _wants_csv(request.headers.get("accept", "")):
            return Response(render_csv(rows), media_type="text/csv")
        # The same rows as `ledger-replay statement --json` prints (HTTP.md: same results).
        return JSONResponse({"account_id": account_id, "data": [row_json(r) for r in rows]})

    @app.get("/v1/events", tags=["feed"], response_model=Page)
    def events(after: Position = 0, limit: Limit = 100,
               types: str | None = None, cursor: str | None = None,
               _: ApiKey = Depends(scoped("events:read"))) -> Any:  # noqa: B008
        wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
        unknown = sorted(set(wanted or ()) - set(ACCOUNT_EVENTS) - {"*"})  # "*": every event
        if unknown:
            # A misspelt type would otherwise be an empty feed that looks caught up.
            raise LedgerError("validation_error", f"types: unknown event types "
                              f"{', '.join(unknown[:10])}", rule="R-8.4")
        with HELD.use() as ledger:
            page = read_feed(ledger, _resume(cursor, after), limit, wanted)
        return {"data": page.events, "has_more": page.has_more,
                "next_cursor": str(page.last_id) if page.has_more else None}

    @app.post("/v1/billing-runs", tags=["operations"])
    def billing_run(body: BillingRun,
                    key: ApiKey = Depends(scoped("billing:run"))) -> Any:  # noqa: B008
        with HELD.use() as ledger:
            # The facts it records name the key that ran it, as a command does.
            report = ledger.run_billing(body.through.isoformat(), principal=key.key_id)
        metrics.BILLED.inc(report["accounts"])
        return report

    @app.post("/v1/audits", tags=["operations"])
    def audit(body: AuditRequest | None = None,
              _: ApiKey = Depends(scoped("audit:run"))) -> Any:  # noqa: B008
        from replay_tools.audit import run_audit

        body = body or AuditRequest()
        from ledger.clock import parse_instant

        checked = _instant(body.through)
        through = parse_instant(checked) if checked is not None else None
        with HELD.use() as ledger:
            report = run_audit(ledger, through, anchors=_anchors(body.anchors))
        return to_jsonable(report.to_json())

    @app.post("/v1/reconciliations", tags=["operations"])
    def reconciliation(_: ApiKey = Depends(scoped("audit:run"))) -> Any:  # noqa: B008
        from replay_tools.reconcile import reconcile

        with HELD.use() as ledger:
            return reconcile(ledger).to_json()

    @app.get("/v1/policy", tags=["operations"])
    def policy(_: ApiKey = Depends(scoped("admin"))) -> Any:  # noqa: B008
        with HELD.use() as ledger:
            catalog = ledger.catalog.model_dump(mode="json")
            adopted = getattr(ledger, "adopted_versions", None)
            return {"catalog": catalog,
                    "adopted": to_jsonable(adopted() if callable(adopted) else [])}


def _anchors(sent: list[dict[str, Any]]) -> list[Any]:
    from replay_tools.anchor import AnchorError, anchor_from, anchor_key

    try:
        key = anchor_key()
        return [anchor_from(a, f"anchors[{i}]", key) for i, a in enumerate(sent)]
    except AnchorError as exc:
        raise LedgerError("validation_error", str(exc).replace("--anchor: ", ""),
                          rule="R-8.8") from None


def _instant(value: str | None) -> str | None:
    if value is None:
        return None
    from ledger.clock import parse_instant

    try:
        parse_instant(value)
    except (ValueError, OverflowError):
        raise LedgerError("validation_error", f"not an ISO 8601 date or datetime: "
                          f"{value[:40]!r}", rule="R-8.4") from None
    return value


def _methods_of_path(request: Request, allowed: list[str]) -> list[str]:
    """Every method some route of this path takes: Starlette's 405 names only the first
    route whose path matched, and one path may have several (the webhook endpoints'
    list and creation)."""
    from starlette.routing import Match

    methods = list(allowed)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        # (Asked of the routes by method: an included router's routes sit inside it.)
        scope = {**request.scope, "method": method}
        if method not in methods and any(
                route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return methods


def _statement_bound(text: str | None, name: str) -> Any:
    """`from` / `to` of a statement, read as `ledger-replay statement` reads them."""
    from replay_tools.statement import parse_bound

    try:
        return parse_bound(text) if text is not None else None
    except ValueError as exc:
        raise LedgerError("validation_error", f"{name}: {escape_text(str(exc))}",
                          rule="R-8.4") from None


def _wants_csv(accept: str) -> bool:
    """Content negotiation for the statement (RFC 9110 quality values): CSV when the
    client prefers `text/csv` to JSON (`application/json`, `application/*`, `*/*`)."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    csv = quality.get("text/csv", 0.0)
    json_q = max(quality.get(m, 0.0) for m in ("application/json", "application/*", "*/*"))
    return csv > 0 and csv >= json_q


def _resume(cursor: str | None, after: int) -> int:
    """Where a page starts: the `next_cursor` of the page before (sent back as `cursor`,
    as on every list), else `after` / `after_version`. The feed's and the history's
    cursors are the last id or version seen, so either parameter resumes the same."""
    if cursor is None:
        return after
    if not cursor.isdigit() or not cursor.isascii() or len(cursor) > 19 \
            or int(cursor) > MAX_POSITION:
        raise LedgerError("validation_error", "cursor: not a cursor this endpoint gave",
                          rule="R-8.4")
    return int(cursor)


def _if_version(if_match: str) -> IfVersion:
    """If-Match as the ledger checks it (RFC 9110 13.1.1): `*` matches any version of an
    account that exists, a list matches if one of its tags does, and the comparison is
    strong (a weak `W/"3"` matches nothing, nor does a tag that is not a version). A
    bare `3` is taken as `"3"`, as the service always has."""
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    shown = escape_text(", ".join(tags) or if_match)  # echoed in the refusal
    if "*" in tags:
        return IfVersion(None, shown)
    versions = {tag[1:-1] if len(tag) > 1 and tag[0] == tag[-1] == '"' else tag
                for tag in tags}  # `"05"` is not version 5: tags compare as text
    return IfVersion(frozenset(versions), shown)

"""The support console's pages (`/console`): server-rendered, reading only through
service.queries, the functions behind the HTTP API."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.screening import contains_pan
from replay_tools.statement import Movement, render_csv
from service import queries
from service.console.chart import render_chart
from service.console.sessions import COOKIE, ConsoleKey, KeyDirectory, Session, Signer, csrf_ok
from service.queries import KINDS, PLANS, STATUSES

HERE = Path(__file__).parent
PRE_COOKIE = "ledger_console_pre"  # the sign-in form's CSRF nonce (no session yet)
READ, AUDIT = "accounts:read", "audit:run"
TIMELINE_PAGE = 20
# Shown where the version in force sells any multiple of a size (v2016's 5s).
MULTIPLES = (1, 2, 4, 8, 16)
NOTICES = {"signed-out": "Signed out.",
           "key-invalid": "This key is no longer valid. Sign in with another."}

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)
# Error pages are titled for people; the code stays in the message's rule and logs.
templates.globals["TITLES"] = {"validation_error": "Not a valid request",
                               "unknown_account": "No such account"}
CSS = (HERE / "console.css").read_text()


def plain(value: Any) -> str:
    """A value as a person reads it, not as Python prints it: `a: 1, b: 2` for a
    mapping, a list joined (`[m-1 yes]` for a pair), yes/no, "none" for nothing (the
    audit's summary holds counts by category; events hold attempts as pairs)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, list | tuple) for v in value):
            return ", ".join("[" + " ".join(plain(x) for x in v) + "]" for v in value)
        return ", ".join(plain(v) for v in value) or "none"
    return str(value)


templates.filters["plain"] = plain


class Refused(Exception):
    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


def instant_of(text: str | None) -> datetime | None:
    """A date input as the end of that day (UTC); a full instant as itself."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LedgerError("validation_error", f"{text!r} is not a date", rule="R-0") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A console page with the headers every one carries (no caching, a strict CSP)."""
    if contains_pan(str(values.get("message", ""))):
        # a card number typed into a URL or a form is not shown back.
        values["message"] = ("The request holds what may be a card number; it is "
                             "not repeated here.")
    body = templates.get_template(name).render(**values)
    response = HTMLResponse(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def make_console_router(ledger_of: Callable[[], Ledger], keys: KeyDirectory,
                        signer: Signer | None = None,
                        hold: Callable[[], AbstractContextManager[Any]] | None = None
                        ) -> APIRouter:
    """The /console pages; `ledger_of` gives the worker's Ledger, `keys` its API keys;
    `hold` (such as the worker's Ledger lock) is held around each page's reads."""
    sign = signer or Signer()
    holding = hold or nullcontext
    router = APIRouter(prefix="/console", include_in_schema=False)

    def signed_in(request: Request, scope: str = READ,
                  signed: dict[str, Any] | None = None) -> tuple[Session, ConsoleKey]:
        """The session and its key, or Refused; `signed` is given them as soon as they
        are known (before the scope check), for the header of an error page."""
        session = sign.check(request.cookies.get(COOKIE))
        if session is None:
            raise Refused(401, "Sign in first.")
        key = keys.by_id(session.key_id)  # None once revoked: sessions end with their key
        if key is None:
            raise Refused(401, "This key is no longer valid. Sign in again.", "key-invalid")
        if signed is not None:
            signed.update(session=session, key=key)
        request.state.principal = key.key_id  # the request log names who asked
        if scope not in key.scopes:
            raise Refused(403, f"This key does not have the {scope} scope.")
        return session, key

    def guarded(scope: str, handler: Callable[[Request, Session, ConsoleKey], Response]
                ) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            # An error page keeps the console's header (search, sign out) for whoever
            # is signed in, so a refused or missing page is not a dead end.
            signed: dict[str, Any] = {"session": None, "key": None}
            try:
                with holding():
                    session, key = signed_in(request, scope, signed)
                    return handler(request, session, key)
            except Refused as refused:
                if refused.status == 401:
                    why = "?message=key-invalid" if refused.reason == "key-invalid" else ""
                    return RedirectResponse("/console/sign-in" + why, status_code=303)
                return page("error.html", refused.status, title="Not allowed",
                            message=str(refused), **signed)
            except LedgerError as error:
                status = 404 if error.code == "unknown_account" else 422
                return page("error.html", status, title=error.code, message=str(error),
                            **signed)
            except (ValueError, OverflowError) as error:  # a value no page can use
                first = (str(error).splitlines() or ["not a value this page can use"])[0]
                return page("error.html", 422, title="validation_error",
                            message=first[:200], **signed)
        return run

    @router.get("/console.css")
    def stylesheet() -> Response:
        return Response(CSS, media_type="text/css",
                        headers={"Cache-Control": "max-age=300"})

    @router.get("")
    @router.get("/")
    def home(request: Request) -> Response:
        where = "/console/search" if sign.check(request.cookies.get(COOKIE)) else \
            "/console/sign-in"
        return RedirectResponse(where, status_code=303)

    @router.get("/sign-in")
    def sign_in_form(request: Request, message: str = "") -> Response:
        nonce = secrets.token_urlsafe(16)
        # Only the console's own notices, by name: text from the URL is never shown as
        # if the console said it.
        response = page("sign_in.html", 200, session=None, csrf=sign.csrf_for(nonce),
                        message=NOTICES.get(message, ""))
        response.set_cookie(PRE_COOKIE, nonce, max_age=600, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/console")
        return response

    @router.post("/sign-in")
    def sign_in(request: Request, secret: str = Form(""), csrf: str = Form("")) -> Response:
        nonce = request.cookies.get(PRE_COOKIE, "")
        if not nonce or not secrets.compare_digest(sign.csrf_for(nonce), csrf):
            # A fresh form, so that signing in again from this page works.
            fresh = secrets.token_urlsafe(16)
            expired = page("sign_in.html", 403, session=None, csrf=sign.csrf_for(fresh),
                           message="The form expired; enter the key again.")
            expired.set_cookie(PRE_COOKIE, fresh, max_age=600, httponly=True,
                               samesite="strict", secure=request.url.scheme == "https",
                               path="/console")
            return expired
        key = keys.by_secret(secret.strip())
        if key is None or READ not in key.scopes:
            fresh = secrets.token_urlsafe(16)
            text = ("That key is unknown or revoked." if key is None else
                    f"That key does not have the {READ} scope.")
            refusal = page("sign_in.html", 403, session=None, csrf=sign.csrf_for(fresh),
                           message=text)
            refusal.set_cookie(PRE_COOKIE, fresh, max_age=600, httponly=True,
                               samesite="strict", path="/console")
            return refusal
        cookie, _ = sign.issue(key.key_id)
        response = RedirectResponse("/console/search", status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=sign.lifetime_s, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https",
                            path="/console")
        response.delete_cookie(PRE_COOKIE, path="/console")
        return response

    @router.post("/sign-out")
    def sign_out(request: Request, csrf: str = Form("")) -> Response:
        session = sign.check(request.cookies.get(COOKIE))
        if session is not None and not csrf_ok(session, csrf):
            return page("error.html", 403, title="Not allowed",
                        message="The form's token does not match this session.", session=None)
        response = RedirectResponse("/console/sign-in?message=signed-out", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    def search(request: Request, session: Session, key: ConsoleKey) -> Response:
        q = request.query_params
        # A pasted id often carries a space or a newline at either end.
        filters = {name: (q.get(name) or "").strip() or None
                   for name in ("prefix", "kind", "plan", "status")}
        result = queries.list_accounts(ledger_of(), limit=25, cursor=q.get("cursor"),
                                       **filters)
        return page("search.html", session=session, key=key, result=result,
                    filters=filters, kinds=KINDS, plans=PLANS, statuses=STATUSES)

    def account(request: Request, session: Session, key: ConsoleKey) -> Response:
        app = ledger_of()
        account_id = request.path_params["account_id"]
        q = request.query_params
        as_of, known_at = instant_of(q.get("as_of")), instant_of(q.get("known_at"))
        view = queries.get_account(app, account_id, as_of, known_at)
        after = _timeline_start(q.get("after_version"), view.version)
        timeline = queries.account_events(app, account_id, after_version=after,
                                          limit=TIMELINE_PAGE, upto_version=view.version)
        chart = render_chart(account_id,
                             queries.account_series(app, account_id, view.version),
                             queries.account_markers(app, account_id, view.version))
        return page("account.html", session=session, key=key, view=view, chart=chart,
                    timeline=timeline, after=after, page_size=TIMELINE_PAGE,
                    as_of=q.get("as_of", ""), known_at=q.get("known_at", ""),
                    point=_point_query(q.get("as_of"), q.get("known_at")))

    def statement_rows(request: Request) -> tuple[str, list[Movement], str, str]:
        account_id = request.path_params["account_id"]
        q = request.query_params
        start, end = q.get("from") or "", q.get("to") or ""
        rows = queries.account_statement(ledger_of(), account_id, _day(start, "from"),
                                         _day(end, "to"))
        return account_id, rows, start, end

    def statement(request: Request, session: Session, key: ConsoleKey) -> Response:
        account_id, rows, start, end = statement_rows(request)
        return page("statement.html", session=session, key=key, account_id=account_id,
                    rows=rows, start=start, end=end, page_size=TIMELINE_PAGE)

    def statement_csv(request: Request, session: Session, key: ConsoleKey) -> Response:
        account_id, rows, _, _ = statement_rows(request)
        return PlainTextResponse(render_csv(rows), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="statement-{account_id}.csv"',
            "Cache-Control": "no-store"})  # as every console page: account data

    def preview(request: Request, session: Session, key: ConsoleKey) -> Response:
        account_id = request.path_params["account_id"]
        app = ledger_of()
        view = queries.get_account(app, account_id)
        return page("preview.html", session=session, key=key, view=view, outcome=None,
                    bundles=_bundles_on_sale(app, view), asked="", acting=key.actor or "",
                    needs_actor=view.kind in ("agency", "company"))

    async def preview_run(request: Request) -> Response:
        form = await request.form()
        return guarded(READ, lambda r, s, k: _preview_post(r, s, k, dict(form)))(request)

    def _preview_post(request: Request, session: Session, key: ConsoleKey,
                      form: dict[str, Any]) -> Response:
        if not csrf_ok(session, str(form.get("csrf", ""))):
            raise Refused(403, "The form's token does not match this session.")
        account_id = request.path_params["account_id"]
        app = ledger_of()
        view = queries.get_account(app, account_id)
        what = str(form.get("what", ""))
        raw: dict[str, Any] = {"account_id": account_id}
        if what == "upgrade":
            raw["type"] = "upgrade_plan"
        elif what.startswith("bundle-") and what[7:].isascii() and what[7:].isdigit():
            raw.update(type="purchase_connects", quantity=int(what[7:]))
        else:
            raise LedgerError("validation_error", "choose an upgrade or a bundle", rule="R-0")
        acting = str(form.get("actor", "")).strip()
        if key.actor is not None:
            # as on /v1/commands/preview: a key made with --actor previews only as
            # that person (the default), never as another.
            if acting and acting != key.actor:
                raise Refused(403, f"This key acts only as {key.actor}.")
            acting = key.actor
        if acting:
            raw["actor"] = acting  # the person acting for an agency or company
        outcome = queries.preview(app, raw, principal=key.key_id)
        return page("preview.html", session=session, key=key, view=view, outcome=outcome,
                    bundles=_bundles_on_sale(app, view), asked=what, acting=acting,
                    needs_actor=view.kind in ("agency", "company"))

    def audit(request: Request, session: Session, key: ConsoleKey) -> Response:
        return page("audit.html", session=session, key=key, report=None)

    async def audit_run(request: Request) -> Response:
        form = await request.form()

        def run(r: Request, session: Session, key: ConsoleKey) -> Response:
            if not csrf_ok(session, str(form.get("csrf", ""))):
                raise Refused(403, "The form's token does not match this session.")
            report = queries.run_audit_report(ledger_of(), instant_of(
                str(form.get("through", "")) or None))
            return page("audit.html", session=session, key=key, report=report)
        return guarded(AUDIT, run)(request)

    router.add_api_route("/search", guarded(READ, search), methods=["GET"])
    router.add_api_route("/accounts/{account_id}", guarded(READ, account), methods=["GET"])
    router.add_api_route("/accounts/{account_id}/statement", guarded(READ, statement),
                         methods=["GET"])
    router.add_api_route("/accounts/{account_id}/statement.csv",
                         guarded(READ, statement_csv), methods=["GET"])
    router.add_api_route("/accounts/{account_id}/preview", guarded(READ, preview),
                         methods=["GET"])
    router.add_api_route("/accounts/{account_id}/preview", preview_run, methods=["POST"])
    router.add_api_route("/audit", guarded(AUDIT, audit), methods=["GET"])
    router.add_api_route("/audit", audit_run, methods=["POST"])
    return router


def _point_query(as_of: str | None, known_at: str | None) -> str:
    # Encoded: an instant's "+00:00" must come back as itself, not as a space.
    return urlencode({k: v for k, v in (("as_of", as_of), ("known_at", known_at)) if v})


def _timeline_start(text: str | None, version: int) -> int:
    """The version the timeline page starts after: the last page by default, and always
    inside the history (0 to the last version's page)."""
    last_page = max(0, version - TIMELINE_PAGE)
    if not text:
        return last_page
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise LedgerError("validation_error", "after_version: a whole number", rule="R-0")
    # Pages follow on from each other ("Later" after events 1-20 starts at 21); past
    # the end, the last version's page.
    return min(int(text), max(0, version - 1))


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LedgerError("validation_error", f"{name}: {text[:40]!r} is not a date "
                          "(YYYY-MM-DD)", rule="R-0") from None


def _bundles_on_sale(app: Ledger, view: Any) -> list[int]:
    """The bundles the version in force today sells to this kind of account."""
    try:
        bundles = app.catalog.version_on(app.clock.now().date()).bundles.get(view.kind)
    except LedgerError:
        return []
    if bundles is None:
        return []
    if bundles.sizes is not None:
        return list(bundles.sizes)
    assert bundles.multiple_of is not None
    return [bundles.multiple_of * m for m in MULTIPLES]


__all__ = ["make_console_router"]

"""`/v1/webhook-endpoints` (HTTP.md): create (the secret shown once), list (no secrets),
delete, and an endpoint's recent deliveries; every route needs the `admin` scope.

`make_router` takes how to reach the worker's Ledger and the admin-scope dependency
(service/routes_webhooks.py passes the service's own).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from webhooks.deliveries import list_deliveries
from webhooks.endpoints import EndpointError, create_endpoint, delete_endpoint, list_endpoints

if TYPE_CHECKING:
    from ledger.application import Ledger

# HTTP.md names the path parameter `{id}` (the endpoint id `we_…`).
EndpointId = Annotated[str, Path(alias="id", description="the endpoint's id")]

STATUS = {"validation_error": 422, "not_found": 404}


class NewEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="http:// or https:// URL of the receiver")
    types: list[str] = Field(default_factory=lambda: ["*"], max_length=100,
                             description='event names, or ["*"] for every event')


class CreatedEndpoint(BaseModel):
    id: str
    secret: str = Field(description="whsec_ signing secret: shown this once")


def _problem(exc: EndpointError) -> JSONResponse:
    status = STATUS.get(exc.code, 422)
    return JSONResponse(
        # The same shape as every other problem of the service: the status's phrase as
        # the title, "" for a rule the rule book does not number.
        {"type": f"urn:ledger:error:{exc.code}", "title": HTTPStatus(status).phrase,
         "status": status, "detail": exc.message, "code": exc.code, "rule": ""},
        status_code=status, media_type="application/problem+json")


def _principal(key: Any) -> str:
    return str(getattr(key, "key_id", None) or getattr(key, "id", None) or "http")


def make_router(use_ledger: Callable[[], AbstractContextManager[Ledger]],
                admin: Callable[..., Any]) -> APIRouter:
    router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])
    needs_admin = Depends(admin)  # a default value: resolved where the route is made

    @router.post("", status_code=201, response_model=CreatedEndpoint)
    def create(body: NewEndpoint, key: Any = needs_admin) -> Any:
        try:
            with use_ledger() as ledger:
                endpoint_id, secret = create_endpoint(ledger, body.url, body.types,
                                                      _principal(key))
        except EndpointError as exc:
            return _problem(exc)
        return JSONResponse({"id": endpoint_id, "secret": secret}, status_code=201,
                            headers={"Cache-Control": "no-store"})

    @router.get("")
    def listing(limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: str | None = None,
                _: Any = needs_admin) -> Any:
        with use_ledger() as ledger:
            endpoints = list_endpoints(ledger)  # oldest first: by feed position, then id
        # Endpoints are few and listed whole from the store, so the page is cut here.
        # The cursor is the last one's sort key (`<position>~<id>`), so a page goes on
        # after it even when that endpoint was deleted in between.
        if cursor is not None:
            mark = _endpoint_mark(cursor)
            if mark is None:
                return _problem(EndpointError("validation_error",
                                              "cursor: not a cursor this list gave"))
            endpoints = [e for e in endpoints if (e.after, e.endpoint_id) > mark]
        page = endpoints[:limit]
        more = len(endpoints) > limit
        return {"data": [e.to_json() for e in page], "has_more": more,
                "next_cursor": f"{page[-1].after}~{page[-1].endpoint_id}" if more else None}

    @router.delete("/{id}", status_code=204, response_class=Response)
    def delete(endpoint_id: EndpointId, key: Any = needs_admin) -> Response:
        try:
            with use_ledger() as ledger:
                delete_endpoint(ledger, endpoint_id, _principal(key))
        except EndpointError as exc:
            return _problem(exc)
        return Response(status_code=204)

    @router.get("/{id}/deliveries")
    def deliveries(endpoint_id: EndpointId, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   cursor: str | None = None, _: Any = needs_admin) -> Any:
        try:
            with use_ledger() as ledger:
                rows, following = list_deliveries(ledger, endpoint_id, limit, cursor)
        except EndpointError as exc:
            return _problem(exc)
        return {"data": rows, "has_more": following is not None, "next_cursor": following}

    return router


def _endpoint_mark(cursor: str) -> tuple[int, str] | None:
    position, _, endpoint_id = cursor.partition("~")
    if not (position.isascii() and position.isdigit()) or len(position) > 19 \
            or not endpoint_id:
        return None
    return int(position), endpoint_id

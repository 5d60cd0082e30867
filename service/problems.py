"""RFC 9457 problem details and the status code of each ledger answer (HTTP.md)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from ledger.screening import contains_pan

PROBLEM_JSON = "application/problem+json"
STATUS_OF_CODE = {
    "validation_error": 422,
    "not_authorized": 403,
    "unknown_account": 404,
    "idempotency_conflict": 409,
    "write_conflict": 409,
    "backdated": 409,
    "payment_failed": 402,
    "version_mismatch": 412,
}
RULE_OF_CODE = {"version_mismatch": "R-8.3", "unauthenticated": ""}


class Problem(BaseModel):
    """An RFC 9457 problem as the service sends it (the OpenAPI description's error
    answers). A rejected command's problem adds `command_id`, `account_id`, `events`,
    and where they apply `blockers` and `charge_id`: extra members are allowed."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    rule: str


def document_problems(schema: dict[str, Any], public: frozenset[str]) -> None:
    """The OpenAPI description with the Bearer scheme on every operation outside
    `public`, and its error answers as problems: 401 and 403 (keys and scopes), 404
    where the path names a resource, 422 (where there is input) as a problem, not
    FastAPI's own shape."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
    components["securitySchemes"] = {"bearerAuth": {
        "type": "http", "scheme": "bearer",
        "description": "an API key's secret (`ledger keys create`)"}}
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    answer = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            errors = {}
            if "422" in responses or "requestBody" in operation or operation.get("parameters"):
                errors["422"] = "the request or the command is refused"
            if path not in public:
                operation["security"] = [{"bearerAuth": []}]
                errors.update({"401": "no key, or an unknown or revoked one",
                               "403": "the key lacks this endpoint's scope"})
            if "{" in path:
                errors["404"] = "no such account or endpoint"
            if "requestBody" in operation:
                errors["413"] = "the body is over 1 MB (a batch: over 10,000 commands)"
            if path not in public or path == "/readyz":
                errors["503"] = "store_unavailable: the store does not answer (Retry-After)"
            for status, description in errors.items():
                responses[status] = {"description": description, **answer}
            for status, response in responses.items():
                # Every other error an operation declares (402, 409, 412 of the commands)
                # is a problem too.
                if status[:1] in "45" and "content" not in response:
                    response.update(answer)
                    response["description"] = ERROR_ANSWERS.get(
                        status, response.get("description") or "a problem")
            _document_answers(path, responses)


ERROR_ANSWERS = {
    "402": "payment_failed: the charge was declined (its PaymentFailed is recorded)",
    "404": "unknown_account: no account with that id",
    "409": "idempotency_conflict, backdated, or write_conflict (with Retry-After)",
    "412": "version_mismatch: the account is not at a version If-Match names",
}
_HEADER = {"schema": {"type": "string"}}


def _document_answers(path: str, responses: dict[str, Any]) -> None:
    """The response headers a client relies on, where they are sent, and the
    statement's CSV form."""
    if path == "/v1/accounts/{id}/statement" and "200" in responses:
        responses["200"].setdefault("content", {})["text/csv"] = {
            "schema": {"type": "string"}}
    if path == "/v1/accounts/{id}" and "200" in responses:
        responses["200"].setdefault("headers", {})["ETag"] = {
            **_HEADER, "description": 'the account\'s version, `"<version>"` (for If-Match)'}
    if path == "/v1/commands" and "200" in responses:
        responses["200"].setdefault("headers", {})["Idempotent-Replayed"] = {
            **_HEADER, "description": "`true` when the command id was accepted before"}
    for status in ("409", "503"):
        if status in responses:
            responses[status].setdefault("headers", {})["Retry-After"] = {
                **_HEADER, "description": "seconds to wait (write_conflict, store_unavailable)"}


class OrjsonResponse(JSONResponse):
    """JSON encoded by orjson: the same compact UTF-8 as Starlette's encoder for the
    JSON-native values the ledger answers with, at a fraction of the cost on the command
    path. A value orjson refuses (an integer beyond 64 bits) falls back to the encoder."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


def status_of(code: str) -> int:
    """HTTP.md: every rejection not named has 422."""
    return STATUS_OF_CODE.get(code, 422)


def problem(status: int, code: str, detail: str, rule: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> OrjsonResponse:
    if contains_pan(detail):
        # an answer never repeats a card number, even one sent in a path or a
        # field the ledger refused for it.
        detail = "the request holds what may be a card number; it is not repeated here"
    body = {"type": f"urn:ledger:error:{code}", "title": HTTPStatus(status).phrase,
            "status": status, "detail": detail, "code": code,
            "rule": rule if rule is not None else RULE_OF_CODE.get(code, ""), **extra}
    return OrjsonResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def result_problem(result: dict[str, Any]) -> OrjsonResponse:
    """A rejected command's result as a problem, with its ids and the events it left."""
    error = result["error"]
    status = status_of(error["code"])
    extra: dict[str, Any] = {"command_id": result.get("command_id"),
                             "account_id": result.get("account_id"),
                             "events": result.get("events", [])}
    if "blockers" in error:
        extra["blockers"] = error["blockers"]
    if result.get("charge_id"):
        extra["charge_id"] = result["charge_id"]
    headers = {"Retry-After": "1"} if error["code"] == "write_conflict" else None
    return problem(status, error["code"], error["message"], error["rule"], headers, **extra)

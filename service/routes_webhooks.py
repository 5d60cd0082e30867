"""The webhook endpoints' routes (webhooks.http) wired to the service's Ledger and its
`admin` scope. service.app includes `router` when this module imports."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from webhooks.http import make_router


def _service_router() -> APIRouter:
    service = importlib.import_module("service.app")
    return make_router(service.HELD.use, service.scoped("admin"))


router = _service_router()

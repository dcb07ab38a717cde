"""Route modules, one per resource; `include_all` mounts them under /api/v1, the PACT host at the paths its
specification fixes (/auth/token, /2/…, /3/…) and the web pages at /."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

API_MODULES = (
    "auth",
    "registry",
    "readings",
    "mappings",
    "users",
    "ledger",
    "reports",
    "energy",
    "footprints",
    "pathway",
)


def include_all(app: FastAPI) -> None:
    for name in API_MODULES:
        module = importlib.import_module(f"parkzero.api.routes.{name}")
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(importlib.import_module("parkzero.api.routes.pact").router)
    try:
        web = importlib.import_module("parkzero.web.pages")
    except ModuleNotFoundError as exc:
        if exc.name != "parkzero.web.pages":
            raise
        return
    web.mount(app)

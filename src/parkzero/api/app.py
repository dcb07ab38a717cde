"""The app factory: one FastAPI app serving /api/v1 and the web pages, built around an open Store."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from parkzero import __version__
from parkzero.api import problems
from parkzero.config import Settings
from parkzero.store import Store, open_store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app. Tests pass their own store (DuckDB or PostgreSQL); `serve` lets it open the default."""
    settings = settings or Settings.from_env()
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.store is None:
            app.state.store = open_store(settings.database_url)
        yield
        if owns_store and app.state.store is not None:
            app.state.store.close()

    app = FastAPI(
        title="parkzero",
        version=__version__,
        summary="Operating platform of a zero-carbon industrial park",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    problems.install(app)
    from parkzero.api.routes import include_all

    include_all(app)
    return app

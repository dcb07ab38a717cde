"""The app factory: one FastAPI app serving /api/v1 and the web pages, built around an open Store."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from parkzero import __version__
from parkzero.api import problems
from parkzero.config import Settings
from parkzero.store import Store, open_store


def create_app(
    settings: Settings | None = None, store: Store | None = None, *, mqtt_park: str | None = None
) -> FastAPI:
    """Build the app. Tests pass their own store (DuckDB or PostgreSQL); `serve` lets it open the default.

    With `mqtt_park`, the server process also ingests that park's MQTT topics (it owns the DuckDB file, so
    a separate `parkzero mqtt listen` could not open it while the server runs).
    """
    settings = settings or Settings.from_env()
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.store is None:
            app.state.store = open_store(settings.database_url)
        ingestor = None
        if mqtt_park:
            from parkzero.ingest.mqtt import MqttIngestor

            ingestor = MqttIngestor(
                app.state.store,
                mqtt_park,
                host=settings.mqtt_host,
                port=settings.mqtt_port,
                client_id=f"parkzero-serve-{mqtt_park}",
            )
            ingestor.start()
        app.state.mqtt = ingestor
        yield
        if ingestor is not None:
            ingestor.stop()
        if owns_store and app.state.store is not None:
            app.state.store.close()

    app = FastAPI(
        title="parkzero",
        version=__version__,
        summary="Operating platform of a zero-carbon industrial park",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        swagger_ui_oauth2_redirect_url="/api/v1/docs/oauth2-redirect",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    problems.install(app)
    from parkzero.api.routes import include_all

    include_all(app)
    return app

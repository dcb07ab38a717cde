"""Fixtures for the web pages: the world of `tests.web.world` behind an app, and a TestClient per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parkzero.api.app import create_app
from parkzero.config import Settings
from parkzero.store import Store
from tests.web import world


@pytest.fixture
def web_store(store) -> Store:
    return world.build(store)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url="unused://", data_dir=tmp_path, secret_key=world.SECRET)


@pytest.fixture
def client(web_store, settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=web_store)) as c:
        yield c


@pytest.fixture
def login(client) -> Callable[[str], TestClient]:
    def do(username: str) -> TestClient:
        client.cookies.clear()
        r = client.post("/login", data={"username": username, "password": world.PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return client

    return do

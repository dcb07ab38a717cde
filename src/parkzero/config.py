"""Settings from the environment (PARKZERO_*), with defaults that need no server."""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("parkzero-data")
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str | None = None  # JWT signing key; None: the one kept in the data folder (see signing_key)
    token_minutes: int = 60
    max_upload_bytes: int = 256 * 1024 * 1024
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("PARKZERO_DATA_DIR", DEFAULT_DATA_DIR))
        url = os.environ.get("PARKZERO_DATABASE_URL") or f"duckdb:///{data_dir / 'park.duckdb'}"
        return cls(
            database_url=url,
            data_dir=data_dir,
            secret_key=os.environ.get("PARKZERO_SECRET_KEY") or None,
            token_minutes=int(os.environ.get("PARKZERO_TOKEN_MINUTES", cls.token_minutes)),
            max_upload_bytes=int(os.environ.get("PARKZERO_MAX_UPLOAD_BYTES", cls.max_upload_bytes)),
            mqtt_host=os.environ.get("PARKZERO_MQTT_HOST", cls.mqtt_host),
            mqtt_port=int(os.environ.get("PARKZERO_MQTT_PORT", cls.mqtt_port)),
        )

    @property
    def signing_key(self) -> str:
        """The key that signs login tokens: PARKZERO_SECRET_KEY, or one kept in the data folder, created on
        first use (only a process that issues or checks tokens touches the folder)."""
        return self.secret_key or _persistent_secret(self.data_dir)


@functools.lru_cache(maxsize=8)
def _persistent_secret(data_dir: Path) -> str:
    """A signing key kept in the data folder so tokens survive a restart."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key

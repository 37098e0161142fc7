"""The one typed, frozen settings object.

Precedence, lowest first: the defaults below < ``config/*.toml`` files (read in name order,
from the directory named by ``NCA_SHARE_CONFIG_DIR`` or ``./config``) < ``NCA_SHARE_*``
environment variables (nested fields with ``__``, e.g. ``NCA_SHARE_SMTP__HOST``).
Nothing else in the code base reads the environment.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

TLP_LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


class SmtpSettings(BaseModel):
    """Outgoing mail server."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "nca-share@localhost"
    timeout_s: float = 10.0
    #: Extra CA bundle (PEM) to trust for STARTTLS/SSL, e.g. a private relay's CA.
    ca_file: str | None = None


class AuthSettings(BaseModel):
    """Accounts, login throttling, tokens and e-mail links (``nca_share.auth``)."""

    model_config = ConfigDict(frozen=True)

    password_min_length: int = 12
    #: Failed logins (password or second factor) on one account before it is locked.
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    #: Failed logins from one IP address within ``ip_window_minutes`` before it is refused.
    ip_max_failed_logins: int = 20
    ip_window_minutes: int = 15
    verify_token_hours: int = 48
    reset_token_hours: int = 1
    token_default_days: int = 90
    token_max_days: int = 366
    totp_issuer: str = "nca_share"
    #: argon2id cost (RFC 9106 low-memory profile by default; tests lower it for speed).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4


class JobSettings(BaseModel):
    """Worker and retry behaviour."""

    model_config = ConfigDict(frozen=True)

    lease_seconds: int = 300
    max_attempts: int = 8
    backoff_base_s: float = 10.0
    backoff_cap_s: float = 3600.0
    poll_interval_s: float = 1.0
    worker_threads: int = 2


class MatchingSettings(BaseModel):
    """Automatic notices of matching: re-notification windows per notice category."""

    model_config = ConfigDict(frozen=True)

    #: A repeat about the same (asset, observable) within this many days adds no new notice:
    #: compromised-host notices (an address or host of the organisation on a threat list).
    renotify_compromised_days: int = 7
    #: ... and every other notice (vulnerable products, exposure).
    renotify_other_days: int = 30


class Settings(BaseSettings):
    """All configuration of one nca_share process; built once, never mutated."""

    model_config = SettingsConfigDict(
        env_prefix="NCA_SHARE_",
        env_nested_delimiter="__",
        frozen=True,
        extra="ignore",
    )

    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: str = Field(default="", repr=False)
    #: Key for encrypting feed secrets at rest (urlsafe base64 Fernet key). Empty: derived
    #: from ``secret_key`` (fine for the embedded demo, set it explicitly in production).
    encryption_key: str = Field(default="", repr=False)
    default_tlp: str = "AMBER"
    #: Objects per ingest transaction (larger batches rewrite fewer index pages on SQLite).
    ingest_batch_size: int = 20000
    #: Prepare large inputs in a forked second process (Linux, single-threaded callers such
    #: as ``nca-share ingest``); elsewhere a writer thread overlaps the database writes.
    ingest_processes: bool = True
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "nl"
    timezone: str = "Europe/Amsterdam"
    #: Outbound URLs to loopback/private networks are refused unless this is set (tests, demo).
    allow_private_urls: bool = False
    smtp: SmtpSettings = SmtpSettings()
    jobs: JobSettings = JobSettings()
    matching: MatchingSettings = MatchingSettings()
    auth: AuthSettings = AuthSettings()
    dns_resolver: str | None = None
    dns_resolver_port: int = 53
    #: The feed catalogue reconciled into the database when the scheduler starts; default
    #: ``feeds.toml`` in the config directory.
    feeds_catalogue: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlDirSource(settings_cls))

    @cached_property
    def effective_database_url(self) -> str:
        """The database URL; the embedded SQLite file in the data directory by default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'nca_share.db').resolve()}"

    @cached_property
    def effective_feeds_catalogue(self) -> Path:
        """The feed catalogue file (it may not exist)."""
        if self.feeds_catalogue is not None:
            return self.feeds_catalogue
        return Path(os.environ.get("NCA_SHARE_CONFIG_DIR", "config")) / "feeds.toml"


class _TomlDirSource(PydanticBaseSettingsSource):
    """Reads every ``*.toml`` in the config directory; later files override earlier ones.

    ``feeds.toml`` is not settings but the feed catalogue, so it is skipped here.
    """

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        directory = Path(os.environ.get("NCA_SHARE_CONFIG_DIR", "config"))
        merged: dict[str, Any] = {}
        if not directory.is_dir():
            return merged
        for path in sorted(directory.glob("*.toml")):
            if path.name == "feeds.toml":
                continue
            with path.open("rb") as fh:
                merged.update(tomllib.load(fh))
        return merged


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from defaults, config files and environment, plus ``overrides``.

    :param overrides: field values that win over every other source (tests use this).
    """
    return Settings(**overrides)

"""Encryption at rest of feed secrets (passwords, tokens, API keys, client keys).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with ``settings.encryption_key``, or a
key derived from ``settings.secret_key`` when no explicit key is set. Secrets are decrypted only
inside a collect run and never shown back: surfaces show "set" / "not set".
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

from nca_share.config import Settings
from nca_share.errors import ConfigError


class SecretBox:
    """Encrypts and decrypts a feed's secret fields as one token."""

    def __init__(self, settings: Settings) -> None:
        if settings.encryption_key:
            key = settings.encryption_key.encode()
        elif settings.secret_key:
            digest = hashlib.sha256(b"nca-share feed secrets\x00" + settings.secret_key.encode())
            key = base64.urlsafe_b64encode(digest.digest())
        else:
            raise ConfigError(
                "feed secrets need NCA_SHARE_ENCRYPTION_KEY or NCA_SHARE_SECRET_KEY to be set"
            )
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise ConfigError(f"encryption_key is not a valid Fernet key: {exc}") from None

    def seal(self, secrets: dict[str, str]) -> str | None:
        """Encrypt the non-empty secrets; ``None`` when there are none."""
        kept = {k: v for k, v in secrets.items() if v}
        if not kept:
            return None
        return self._fernet.encrypt(orjson.dumps(kept)).decode()

    def open(self, token: str | None) -> dict[str, str]:
        """Decrypt a token made by :meth:`seal`.

        :raises ConfigError: the key changed or the token was tampered with.
        """
        if not token:
            return {}
        try:
            data: Any = orjson.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ConfigError(
                "cannot decrypt the feed's secrets: was the encryption key changed?"
            ) from None
        return {str(k): str(v) for k, v in data.items()}

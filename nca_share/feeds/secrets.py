"""Encryption at rest of feed secrets (passwords, tokens, API keys, client keys).

Sealed with the installation's one Fernet key (``nca_share.crypto.fernet``). Secrets are
decrypted only inside a collect run and never shown back: surfaces show "set" / "not set".
"""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import InvalidToken

from nca_share.config import Settings
from nca_share.crypto import fernet
from nca_share.errors import ConfigError


class SecretBox:
    """Encrypts and decrypts a feed's secret fields as one token."""

    def __init__(self, settings: Settings) -> None:
        self._fernet = fernet(settings)

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

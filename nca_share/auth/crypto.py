"""Small cryptographic helpers of ``nca_share.auth``: random tokens, SHA-256 digests and the
Fernet box (``nca_share.crypto``) that encrypts TOTP secrets at rest."""

from __future__ import annotations

import hashlib
import secrets

from cryptography.fernet import InvalidToken

from nca_share.config import Settings
from nca_share.crypto import fernet
from nca_share.errors import ConfigError


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token with ``nbytes`` of entropy."""
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """Hex SHA-256 of ``value`` (for high-entropy secrets only; passwords use argon2)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def encrypt(settings: Settings, plaintext: str) -> str:
    """Encrypt ``plaintext`` for storage."""
    return fernet(settings).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(settings: Settings, token: str) -> str:
    """Decrypt a value stored by ``encrypt``.

    :raises ConfigError: the key changed since the value was stored.
    """
    try:
        return fernet(settings).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ConfigError("stored secret cannot be decrypted with the configured key") from exc

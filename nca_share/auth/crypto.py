"""Small cryptographic helpers of ``nca_share.auth``: random tokens, SHA-256 digests and the
Fernet box that encrypts TOTP secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nca_share.config import Settings
from nca_share.errors import ConfigError


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token with ``nbytes`` of entropy."""
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """Hex SHA-256 of ``value`` (for high-entropy secrets only; passwords use argon2)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def fernet(settings: Settings) -> Fernet:
    """The Fernet box from ``settings.encryption_key``, or derived from ``secret_key``.

    :raises ConfigError: neither key is set, or the encryption key is malformed.
    """
    if settings.encryption_key:
        try:
            return Fernet(settings.encryption_key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ConfigError("encryption_key is not a valid Fernet key") from exc
    if not settings.secret_key:
        raise ConfigError("set secret_key or encryption_key to store secrets encrypted")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"nca_share:fernet:v1").derive(
        settings.secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


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

"""Encryption at rest for every package: the one Fernet key of this installation.

The key is ``settings.encryption_key`` (a urlsafe-base64 Fernet key) or, when that is empty,
derived from ``settings.secret_key`` with HKDF-SHA256. TOTP seeds (``auth``) and feed
credentials (``feeds``) are sealed with it.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nca_share.config import Settings
from nca_share.errors import ConfigError


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
        raise ConfigError(
            "secrets at rest need NCA_SHARE_ENCRYPTION_KEY or NCA_SHARE_SECRET_KEY to be set"
        )
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"nca_share:fernet:v1").derive(
        settings.secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))

"""Encryption of secrets at rest (the TOTP secret) with Fernet."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from nca_share.auth.crypto import decrypt, digest, encrypt
from nca_share.config import Settings
from nca_share.errors import ConfigError


def test_derived_key_round_trip(plain_settings: Settings) -> None:
    """Without an encryption key one is derived from the secret key."""
    token = encrypt(plain_settings, "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in token
    assert decrypt(plain_settings, token) == "JBSWY3DPEHPK3PXP"
    other = plain_settings.model_copy(update={"secret_key": "another secret key"})
    with pytest.raises(ConfigError):
        decrypt(other, token)


def test_explicit_key_wins(plain_settings: Settings) -> None:
    """An explicit Fernet key is used as is."""
    key = Fernet.generate_key().decode()
    settings = plain_settings.model_copy(update={"encryption_key": key})
    token = encrypt(settings, "secret")
    assert Fernet(key.encode()).decrypt(token.encode()) == b"secret"
    with pytest.raises(ConfigError):
        decrypt(plain_settings, token)


@pytest.mark.parametrize(
    ("secret_key", "encryption_key"), [("", ""), ("x", "not-a-fernet-key"), ("x", "é" * 44)]
)
def test_missing_or_bad_keys(
    plain_settings: Settings, secret_key: str, encryption_key: str
) -> None:
    """No key at all, or a malformed encryption key, is a configuration error."""
    settings = plain_settings.model_copy(
        update={"secret_key": secret_key, "encryption_key": encryption_key}
    )
    with pytest.raises(ConfigError):
        encrypt(settings, "secret")


def test_digest_is_sha256() -> None:
    """Token digests are hex SHA-256."""
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

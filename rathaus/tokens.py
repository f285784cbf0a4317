"""Citizen secrets: short human booking codes, manage tokens stored only as hashes, sealed replay copies."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

# No 0/O, 1/I/L: codes are read aloud at the front desk and typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    """A short booking code such as K7M2XQ4P."""
    # One draw of all its letters at once (uniform, as eight draws of one letter are): a booking draws at least one.
    number = secrets.randbelow(len(CODE_ALPHABET) ** CODE_LENGTH)
    letters = []
    for _ in range(CODE_LENGTH):
        number, letter = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[letter])
    return "".join(letters)


def normalise_code(raw: str) -> str:
    """What a person typed or a scanner read, as a stored code (case, spaces and dashes ignored)."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())[:32]


def new_token() -> str:
    """A manage token with 256 random bits."""
    return secrets.token_urlsafe(32)


def new_room_name() -> str:
    """A video meeting's room name with 160 random bits (letters, digits, - and _: valid in Jitsi and BBB)."""
    return secrets.token_urlsafe(20)


def hash_secret(value: str) -> str:
    """The stored form of a token or verification code."""
    return hashlib.sha256(value.encode()).hexdigest()


def matches(value: str, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    return stored_hash is not None and hmac.compare_digest(hash_secret(value), stored_hash)


def new_verification_code() -> str:
    """A six-digit code to type from an SMS or e-mail."""
    return f"{secrets.randbelow(1_000_000):06d}"


@functools.lru_cache(maxsize=4)  # one app secret per instance: its key is derived once
def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(b"rathaus-idempotency:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, secret_key: str) -> str:
    """Encrypt `value` with the app secret."""
    return _fernet(secret_key).encrypt(value.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str | None:
    """Decrypt a sealed value, or None if the secret changed since."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None

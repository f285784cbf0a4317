"""Citizen secrets: booking codes drawn evenly from the alphabet, sealed tokens readable across versions."""

import base64
import hashlib
from collections import Counter

from cryptography.fernet import Fernet

from rathaus import tokens

SECRET = "s" * 40


def test_codes_use_every_letter_of_the_alphabet_in_every_place() -> None:
    codes = [tokens.new_code() for _ in range(3000)]

    assert all(len(code) == tokens.CODE_LENGTH and set(code) <= set(tokens.CODE_ALPHABET) for code in codes)
    for place in range(tokens.CODE_LENGTH):
        seen = Counter(code[place] for code in codes)
        assert set(seen) == set(tokens.CODE_ALPHABET)
        assert max(seen.values()) < 3 * min(seen.values())  # ~97 each; no letter is favoured
    assert len(set(codes)) == len(codes)


def test_a_token_sealed_as_before_is_unsealed_and_a_new_seal_reads_as_before() -> None:
    # Sealed values are stored (idempotent replays) and sent (messages): their format is Fernet under this key.
    key = base64.urlsafe_b64encode(hashlib.sha256(b"rathaus-idempotency:" + SECRET.encode()).digest())
    stored = Fernet(key).encrypt(b"the-token").decode()

    assert tokens.unseal(stored, SECRET) == "the-token"
    assert Fernet(key).decrypt(tokens.seal("the-token", SECRET).encode()) == b"the-token"
    assert tokens.unseal(tokens.seal("the-token", SECRET), "another secret " + SECRET) is None

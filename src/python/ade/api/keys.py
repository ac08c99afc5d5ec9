"""API key format and hashing, shared by the request authenticator and the admin service.

A key reads ``ade_<prefix>_<secret>``: ``prefix`` (12 hex characters, stored in clear and
unique) finds the row in one indexed lookup; ``secret`` is 32 random bytes (256 bits).

Only ``sha256:<hex of SHA-256(whole key)>`` is stored. A fast hash is the right tool here:
password hashing (bcrypt, argon2) exists to slow down guessing of low-entropy human secrets,
but guessing a 256-bit random secret is infeasible at any speed, and a slow hash would put
tens of milliseconds on every request. No pepper either: it would only help if the secret were
guessable, and it would tie every process (CLI, API) to one more secret to distribute.
Comparison uses :func:`hmac.compare_digest` so response timing reveals nothing about the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "ade_"
_KEY = re.compile(r"ade_([0-9a-f]{12})_([A-Za-z0-9_-]{43})\Z")
_DUMMY_HASH = "sha256:" + "0" * 64


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret: str
    """The whole key, ``ade_<prefix>_<secret>``: shown once, never stored."""
    secret_hash: str


def generate_key() -> NewKey:
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(prefix=prefix, secret=secret, secret_hash=hash_key(secret))


def hash_key(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_prefix(key: str) -> str | None:
    """The prefix of a well-formed key, or None (malformed keys never reach the database)."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def verify(key: str, stored_hash: str | None) -> bool:
    """Constant-time comparison of the presented key's hash with the stored one."""
    expected = stored_hash if stored_hash is not None else _DUMMY_HASH
    ok = hmac.compare_digest(hash_key(key).encode(), expected.encode())
    return ok and stored_hash is not None

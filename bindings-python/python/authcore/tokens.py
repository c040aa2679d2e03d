"""Opaque bearer secrets backed by the Rust core (``authcore::tokens``).

* Auth Server API tokens: ``<prefix><32 base62>`` from the OS CSPRNG, stored only as
  SHA-256 hex, looked up by a prefix that may collide (every candidate is compared in
  constant time).
* node-auth API keys: ``ak_`` + 48 hex, lookup prefix = first 11 characters; legacy bcrypt
  hashes are verified (GIL released), an unknown prefix costs a dummy bcrypt.
* fuz_app session tokens: 32 random bytes base64url, session id = BLAKE3 hex.

Failures raise :class:`ApiTokenError` subclasses carrying node-auth's ``code`` and an HTTP
``status``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple

from . import _native as _n

__all__ = [
    "ApiTokenError",
    "ApiKeyMissingError",
    "ApiKeyInvalidError",
    "ApiKeyRevokedError",
    "ApiKeyExpiredError",
    "LIVE_PREFIX",
    "TEST_PREFIX",
    "GeneratedApiToken",
    "NodeApiKey",
    "generate_api_token",
    "hash_api_token",
    "api_token_lookup_prefix",
    "lookup_prefix",
    "match_token_hash",
    "authenticate_api_token",
    "ApiTokenStore",
    "generate_node_api_key",
    "node_api_key_prefix",
    "generate_session_token",
    "hash_session_token",
    "hash_blake3",
    "verify_session_token",
]

LIVE_PREFIX = "epic_live_"
TEST_PREFIX = "epic_test_"


class ApiTokenError(Exception):
    """Base class: ``code`` (``API_KEY_INVALID``, ...) and ``status``."""

    code: str = "API_TOKEN_ERROR"
    status: int = 500


class ApiKeyMissingError(ApiTokenError):
    code = "API_KEY_MISSING"
    status = 401


class ApiKeyInvalidError(ApiTokenError):
    code = "API_KEY_INVALID"
    status = 401


class ApiKeyRevokedError(ApiTokenError):
    code = "API_KEY_REVOKED"
    status = 401


class ApiKeyExpiredError(ApiTokenError):
    code = "API_KEY_EXPIRED"
    status = 401


class GeneratedApiToken(NamedTuple):
    #: The full secret, shown to the user once and never stored.
    token: str
    #: Lookup prefix (visible prefix + 8 random characters).
    prefix: str
    #: SHA-256 hex of ``token``: what to store.
    token_hash: str

    def __repr__(self) -> str:  # the token is never printed
        return f"GeneratedApiToken(token=[REDACTED], prefix={self.prefix!r}, token_hash={self.token_hash!r})"


class NodeApiKey(NamedTuple):
    raw_key: str
    key_prefix: str

    def __repr__(self) -> str:  # the key is never printed
        return f"NodeApiKey(raw_key=[REDACTED], key_prefix={self.key_prefix!r})"


def generate_api_token(visible_prefix: str = LIVE_PREFIX) -> GeneratedApiToken:
    return GeneratedApiToken(*_n.tokens_generate_api_token(visible_prefix))


def hash_api_token(token: str) -> str:
    """SHA-256 hex of the token (the stored ``tokenHash``)."""
    return _n.tokens_hash_api_token(token)


def api_token_lookup_prefix(token: str, visible_prefix: str = LIVE_PREFIX) -> str | None:
    """The lookup prefix of a presented token, or ``None`` if it is not well formed (the
    core's ``tokens::api_token_lookup_prefix``, Node's ``apiTokenLookupPrefix``)."""
    return _n.tokens_api_token_lookup_prefix(token, visible_prefix)


def lookup_prefix(token: str, visible_prefix: str = LIVE_PREFIX) -> str | None:
    """Deprecated alias of :func:`api_token_lookup_prefix` (the name every language shares)."""
    import warnings

    warnings.warn(
        "authcore.tokens.lookup_prefix is deprecated: use api_token_lookup_prefix", DeprecationWarning, stacklevel=2
    )
    return api_token_lookup_prefix(token, visible_prefix)


def match_token_hash(presented: str, candidate_hashes: Iterable[str]) -> int | None:
    """Index of the stored hash (SHA-256 hex or legacy bcrypt) matching ``presented``;
    every candidate is checked, in constant time."""
    return _n.tokens_match_token_hash(presented, list(candidate_hashes))


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def authenticate_api_token(
    presented: str, candidates: Iterable[Mapping[str, Any]], now: float | None = None
) -> dict[str, Any]:
    """Authenticate against the records returned by a prefix lookup (Auth Server
    ``ApiToken`` dicts, camelCase keys); returns the matching record, or raises."""
    texts = [json.dumps(dict(c)) for c in candidates]
    return _n.tokens_authenticate_api_token(presented, texts, _now(now))


class ApiTokenStore:
    """In-memory store of ``ApiToken`` records with the whole ``requireAuth`` branch."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        self._inner = _n.ApiTokenStore()

    def insert(self, record: Mapping[str, Any]) -> None:
        self._inner.insert_json(json.dumps(dict(record)))

    def find_by_prefix(self, prefix: str) -> list[dict[str, Any]]:
        return self._inner.find_by_prefix(prefix)

    def all(self) -> list[dict[str, Any]]:
        return self._inner.all()

    def authenticate(self, presented: str, visible_prefix: str = LIVE_PREFIX, now: float | None = None) -> dict[str, Any]:
        """Returns ``AuthData`` (``{"type": "api_token", "serviceAccountId", ...}``) and
        records ``lastUsedAt``."""
        t = _now(now)
        stamp = datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._inner.authenticate(presented, visible_prefix, t, stamp)


def generate_node_api_key() -> NodeApiKey:
    return NodeApiKey(*_n.tokens_generate_node_api_key())


def node_api_key_prefix(raw: str) -> str | None:
    return _n.tokens_node_api_key_prefix(raw)


def generate_session_token() -> str:
    return _n.tokens_generate_session_token()


def hash_session_token(token: str) -> str:
    """fuz_app session id: BLAKE3 hex of the token."""
    return _n.tokens_hash_session_token(token)


def hash_blake3(data: bytes | str) -> str:
    return _n.tokens_hash_blake3(data.encode("utf-8") if isinstance(data, str) else bytes(data))


def verify_session_token(token: str, session_id: str) -> bool:
    return _n.tokens_verify_session_token(token, session_id)

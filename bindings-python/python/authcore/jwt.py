"""PyJWT-compatible JSON Web Tokens backed by the Rust core (``authcore::jwt``).

``encode``/``decode``/``decode_complete``/``get_unverified_header`` take PyJWT 2.x's
argument names and raise exception classes with PyJWT's names and hierarchy
(``InvalidTokenError`` > ``DecodeError`` > ``InvalidSignatureError``, ...), so::

    import authcore.jwt as jwt

is the usual migration. Algorithms: HS256/384/512, RS256, ES256, EdDSA. ``alg: none`` is
never accepted, and a PEM key is never used as an HMAC secret (algorithm confusion).
Every exception also carries ``code`` (a stable core code such as ``JWT_EXPIRED``) and
``status`` (HTTP).

Beyond PyJWT: :class:`KeySet` (keys by ``kid``, node-jsonwebtoken semantics, JWKS) and the
Auth Server :class:`TokenManager` (access / refresh / 2FA-pending tokens, refresh rotation
with reuse detection). Differences from PyJWT are listed in ``docs/compat.md``.
"""

from __future__ import annotations

import json
from calendar import timegm
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from . import _native as _n

__all__ = [
    "PyJWTError",
    "InvalidTokenError",
    "DecodeError",
    "InvalidSignatureError",
    "ExpiredSignatureError",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "InvalidIssuedAtError",
    "ImmatureSignatureError",
    "InvalidKeyError",
    "InvalidAlgorithmError",
    "MissingRequiredClaimError",
    "InvalidSubjectError",
    "InvalidJTIError",
    "InvalidTokenUseError",
    "RefreshTokenReusedError",
    "RefreshTokenRevokedError",
    "RefreshTokenUnknownError",
    "encode",
    "decode",
    "decode_complete",
    "get_unverified_header",
    "sign_json",
    "jwks_from_pem",
    "KeySet",
    "TokenManager",
    "ALGORITHMS",
]

#: Algorithms this module signs and verifies.
ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA")


class PyJWTError(Exception):
    """Base class of every exception of this module (PyJWT's ``PyJWTError``)."""

    code: str = "JWT_ERROR"
    status: int = 500


class InvalidTokenError(PyJWTError):
    """The token was rejected (PyJWT's ``InvalidTokenError``)."""

    code = "JWT_INVALID"
    status = 401


class DecodeError(InvalidTokenError):
    code = "JWT_MALFORMED"


class InvalidSignatureError(DecodeError):
    code = "JWT_INVALID_SIGNATURE"


class ExpiredSignatureError(InvalidTokenError):
    code = "JWT_EXPIRED"


class InvalidAudienceError(InvalidTokenError):
    code = "JWT_INVALID_AUDIENCE"


class InvalidIssuerError(InvalidTokenError):
    code = "JWT_INVALID_ISSUER"


class InvalidIssuedAtError(InvalidTokenError):
    code = "JWT_INVALID_CLAIM"


class ImmatureSignatureError(InvalidTokenError):
    code = "JWT_NOT_YET_VALID"


class InvalidKeyError(PyJWTError):
    code = "JWT_INVALID_KEY"


class InvalidAlgorithmError(InvalidTokenError):
    code = "JWT_ALGORITHM_MISMATCH"


class MissingRequiredClaimError(InvalidTokenError):
    code = "JWT_MISSING_CLAIM"

    def __init__(self, claim: str) -> None:
        super().__init__(claim)
        self.claim = claim

    def __str__(self) -> str:
        return f'Token is missing the "{self.claim}" claim'


class InvalidSubjectError(InvalidTokenError):
    code = "JWT_INVALID_SUBJECT"


class InvalidJTIError(InvalidTokenError):
    code = "JWT_INVALID_CLAIM"


class InvalidTokenUseError(InvalidTokenError):
    """An access token where a refresh token was expected, a 2FA-pending token used as
    an access token, ... (core ``JWT_WRONG_TOKEN_USE``)."""

    code = "JWT_WRONG_TOKEN_USE"


class RefreshTokenReusedError(InvalidTokenError):
    """A rotated refresh token was presented again; its whole family is now revoked."""

    code = "REFRESH_TOKEN_REUSED"


class RefreshTokenRevokedError(InvalidTokenError):
    code = "REFRESH_TOKEN_REVOKED"


class RefreshTokenUnknownError(InvalidTokenError):
    code = "REFRESH_TOKEN_UNKNOWN"


def _key_material(key: Any, private: bool) -> str | bytes:
    """``str``/``bytes`` as is; a ``cryptography`` key object as PEM."""
    if isinstance(key, (str, bytes)):
        return key
    if isinstance(key, bytearray):
        return bytes(key)
    try:
        from cryptography.hazmat.primitives import serialization as s
    except ImportError:  # pragma: no cover - cryptography absent
        s = None  # type: ignore[assignment]
    if s is not None:
        if private and hasattr(key, "private_bytes"):
            return key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
        if hasattr(key, "public_bytes"):
            return key.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
        if hasattr(key, "private_bytes"):
            return key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
    raise InvalidKeyError(f"Expecting a PEM-formatted key or a secret, got {type(key).__name__}")


_TIME_CLAIMS = ("exp", "iat", "nbf")
_UNSET: Any = object()


def encode(
    payload: dict[str, Any],
    key: Any,
    algorithm: str | None = _UNSET,
    headers: dict[str, Any] | None = None,
    json_encoder: type[json.JSONEncoder] | None = None,
    sort_headers: bool = True,
) -> str:
    """PyJWT's ``jwt.encode``: sign ``payload`` (a dict) and return the compact token.

    ``datetime`` values of ``exp``/``iat``/``nbf`` become unix seconds; the payload and
    header are serialised exactly like PyJWT (``json.dumps`` with compact separators, header
    keys sorted), so for HS*/RS256/EdDSA the token is byte-identical to PyJWT's.
    """
    if not isinstance(payload, dict):
        raise TypeError("Expecting a dict object, as JWT only supports JSON objects as payloads.")
    for claim in _TIME_CLAIMS:
        value = payload.get(claim)
        if isinstance(value, datetime):
            payload = payload.copy()
            for c in _TIME_CLAIMS:
                if isinstance(payload.get(c), datetime):
                    payload[c] = timegm(payload[c].utctimetuple())
            break
    if "iss" in payload and not isinstance(payload["iss"], str):
        raise TypeError("Issuer (iss) must be a string.")
    if algorithm is _UNSET:
        alg = "HS256"
    elif algorithm is None:
        alg = "none"
    else:
        alg = algorithm
    header_json = None
    if headers:
        if headers.get("alg"):
            alg = headers["alg"]
        if "kid" in headers and not isinstance(headers["kid"], str):
            raise InvalidTokenError("Key ID header parameter must be a string")
        header: dict[str, Any] = {"typ": "JWT", "alg": alg}
        header.update(headers)
        if not header["typ"]:
            del header["typ"]
        if header.get("b64", True) is False:
            raise NotImplementedError("Unencoded payloads (b64=False, RFC 7797) are not supported")
        header.pop("b64", None)
        header_json = json.dumps(header, separators=(",", ":"), cls=json_encoder, sort_keys=sort_headers)
    elif not sort_headers:
        header_json = json.dumps({"typ": "JWT", "alg": alg}, separators=(",", ":"))
    payload_json = None
    if json_encoder is not None:
        payload_json = json.dumps(payload, separators=(",", ":"), cls=json_encoder)
    material = key if type(key) is str or type(key) is bytes else _key_material(key, True)
    return _n.jwt_encode(payload, material, alg, header_json, payload_json)


def _as_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if type(value) is str:
        return [value]
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    raise TypeError(f"{what} must be a string, iterable or None")


def _decode(
    jwt: str | bytes,
    key: Any,
    algorithms: Sequence[str] | None,
    options: Mapping[str, Any] | None,
    audience: str | Iterable[str] | None,
    subject: str | None,
    issuer: str | Container[str] | None,
    leeway: float | timedelta,
    complete: bool,
) -> Any:
    if isinstance(leeway, timedelta):
        leeway = leeway.total_seconds()
    if options is None and algorithms:
        # PyJWT's default options: every check on, nothing required.
        material = key if type(key) is str or type(key) is bytes else _key_material(key, False)
        return _n.jwt_decode(
            jwt,
            material,
            list(algorithms),
            True,
            complete,
            True,
            True,
            True,
            True,
            True,
            True,
            True,
            False,
            [],
            _as_list(audience, "audience"),
            _as_list(issuer, "issuer"),
            subject,
            float(leeway),
        )
    verify_signature = True if options is None else bool(options.get("verify_signature", True))
    if verify_signature and not algorithms:
        raise DecodeError('It is required that you pass in a value for the "algorithms" argument when calling decode().')
    opts: dict[str, Any] = {
        "verify_exp": True,
        "verify_nbf": True,
        "verify_iat": True,
        "verify_aud": True,
        "verify_iss": True,
        "verify_sub": True,
        "verify_jti": True,
        "require": [],
        "strict_aud": False,
    }
    if options is not None:
        if not verify_signature:
            for name in ("verify_exp", "verify_nbf", "verify_iat", "verify_aud", "verify_iss", "verify_sub", "verify_jti"):
                opts[name] = False
        opts.update(options)
    audiences = _as_list(audience, "audience")
    if opts["strict_aud"] and audience is not None and not isinstance(audience, str):
        # PyJWT's strict mode takes one audience string only; an empty list makes the core
        # refuse at the audience check, in PyJWT's order.
        audiences = []
    material = key if type(key) is str or type(key) is bytes else _key_material(key, False)
    return _n.jwt_decode(
        jwt,
        material,
        list(algorithms or ()),
        verify_signature,
        complete,
        bool(opts["verify_exp"]),
        bool(opts["verify_nbf"]),
        bool(opts["verify_iat"]),
        bool(opts["verify_iss"]),
        bool(opts["verify_aud"]),
        bool(opts["verify_sub"]),
        bool(opts["verify_jti"]),
        bool(opts["strict_aud"]),
        list(opts["require"]),
        audiences,
        _as_list(issuer, "issuer"),
        subject,
        float(leeway),
    )


def decode(
    jwt: str | bytes,
    key: Any = "",
    algorithms: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    verify: bool | None = None,
    detached_payload: bytes | None = None,
    audience: str | Iterable[str] | None = None,
    subject: str | None = None,
    issuer: str | Container[str] | None = None,
    leeway: float | timedelta = 0,
    **kwargs: Any,
) -> dict[str, Any]:
    """PyJWT's ``jwt.decode``: verify the token and its registered claims, return the
    payload. ``algorithms`` is required (as in PyJWT)."""
    if detached_payload is not None:
        raise DecodeError("Detached payloads (RFC 7797) are not supported")
    if isinstance(algorithms, str):
        algorithms = [algorithms]
    if options is None and audience is None and issuer is None and subject is None and not leeway and algorithms:
        material = key if type(key) is str or type(key) is bytes else _key_material(key, False)
        return _n.jwt_decode_default(jwt, material, list(algorithms))
    return _decode(jwt, key, algorithms, options, audience, subject, issuer, leeway, False)


def decode_complete(
    jwt: str | bytes,
    key: Any = "",
    algorithms: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    verify: bool | None = None,
    detached_payload: bytes | None = None,
    audience: str | Iterable[str] | None = None,
    subject: str | None = None,
    issuer: str | Container[str] | None = None,
    leeway: float | timedelta = 0,
    **kwargs: Any,
) -> dict[str, Any]:
    """PyJWT's ``jwt.decode_complete``: ``{"header", "payload", "signature"}``."""
    if detached_payload is not None:
        raise DecodeError("Detached payloads (RFC 7797) are not supported")
    if isinstance(algorithms, str):
        algorithms = [algorithms]
    header, payload = _decode(jwt, key, algorithms, options, audience, subject, issuer, leeway, True)
    token = jwt.decode("utf-8", "replace") if isinstance(jwt, bytes) else jwt
    import base64

    sig = token.rsplit(".", 1)[-1]
    signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    return {"header": header, "payload": payload, "signature": signature}


def get_unverified_header(jwt: str | bytes) -> dict[str, Any]:
    """The token's header, **not verified**."""
    return _n.jwt_unverified_header(jwt)


def sign_json(payload_json: str, key: str | bytes, algorithm: str = "HS256", kid: str | None = None) -> str:
    """Sign an exact payload text under node-jsonwebtoken's header
    (``{"alg","typ","kid"}`` in that order): byte-identical to npm ``jwt.sign`` given the
    same ``JSON.stringify`` output."""
    ks = KeySet()
    ks.add(algorithm, key, kid=kid)
    return ks.sign_json(payload_json)


def jwks_from_pem(algorithm: str, public_key_pem: str | bytes, kid: str) -> dict[str, Any]:
    """JWKS document (``{"keys": [...]}``) of one public key, node-auth's shape."""
    return json.loads(_n.jwt_jwks_from_pem(algorithm, public_key_pem, kid))


class KeySet:
    """Keys indexed by ``kid`` (parsed once), one signing key, JWKS output, and
    verification with node-jsonwebtoken semantics (``exp`` only when present, no ``aud``
    check unless asked, ``token_use`` when asked)."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        self._inner = _n.KeySet()

    @classmethod
    def from_jwks(cls, jwks: str | Mapping[str, Any]) -> KeySet:
        """Verification keys from a JWKS document (e.g. fetched from an IdP)."""
        ks = cls.__new__(cls)
        text = jwks if isinstance(jwks, str) else json.dumps(jwks)
        ks._inner = _n.KeySet.from_jwks_json(text)
        return ks

    def add(
        self,
        algorithm: str,
        key: Any,
        kid: str | None = None,
        accept: Sequence[str] | None = None,
        node_compat: bool = False,
    ) -> KeySet:
        """Add an HMAC secret or a PEM key (private keys can sign)."""
        self._inner.add(algorithm, _key_material(key, True), kid, list(accept) if accept else None, node_compat)
        return self

    def add_jwk(self, jwk: Mapping[str, Any]) -> KeySet:
        self._inner.add_jwk(json.dumps(dict(jwk)))
        return self

    def set_signing_kid(self, kid: str | None) -> None:
        self._inner.set_signing_kid(kid)

    def __len__(self) -> int:
        return len(self._inner)

    def jwks(self) -> dict[str, Any]:
        return json.loads(self._inner.jwks_json())

    def sign_json(self, payload_json: str) -> str:
        return self._inner.sign_json(payload_json)

    def sign(self, payload: Mapping[str, Any]) -> str:
        return self._inner.sign_json(json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False))

    def verify(
        self,
        token: str,
        *,
        now: float | None = None,
        leeway: int = 0,
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        subject: str | None = None,
        token_use: str | None = None,
        required_claims: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        return self._inner.verify(
            token,
            now,
            leeway,
            _as_list(issuer, "issuer"),
            _as_list(audience, "audience"),
            subject,
            token_use,
            list(required_claims) if required_claims else None,
        )


class TokenManager:
    """The Auth Server's access / refresh / 2FA-pending tokens (core ``TokenManager``).

    Tokens carry a ``token_use`` claim, so a refresh token is never accepted as an access
    token (and the reverse), and a 2FA-pending token is never an access token. Refresh
    tokens rotate: ``refresh()`` consumes the presented token; presenting it again raises
    :class:`RefreshTokenReusedError` and revokes its whole family. Only SHA-256 hashes of
    refresh tokens are stored, compared in constant time: in this process by default, or in
    Redis (``store="redis://..."``, keys under ``key_prefix``, default ``authcore``) so that
    every process, in any language, shares one rotation state. The GIL is released during
    each store round trip.
    """

    __slots__ = ("_inner",)

    def __init__(
        self,
        issuer: str,
        key: Any,
        algorithm: str = "HS256",
        *,
        kid: str | None = None,
        audience: str | None = None,
        access_ttl: int = 900,
        refresh_ttl: int = 2_592_000,
        mfa_pending_ttl: int = 300,
        leeway: int = 0,
        refresh_key: Any = None,
        refresh_algorithm: str | None = None,
        refresh_kid: str | None = None,
        store: str | None = None,
        key_prefix: str | None = None,
    ) -> None:
        self._inner = _n.TokenManager(
            issuer,
            _key_material(key, True),
            algorithm,
            kid,
            audience,
            access_ttl,
            refresh_ttl,
            mfa_pending_ttl,
            leeway,
            None if refresh_key is None else _key_material(refresh_key, True),
            refresh_algorithm,
            refresh_kid,
            store,
            key_prefix,
        )

    def create_access_token(self, user_id: str, domain_id: str, scope: str, *, now: float | None = None) -> str:
        return self._inner.create_access_token(user_id, domain_id, scope, now)

    def verify_access_token(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        return self._inner.verify_access_token(token, now)

    def create_refresh_token(
        self, user_id: str, domain_id: str, scope: str | None = None, *, now: float | None = None
    ) -> str:
        return self._inner.create_refresh_token(user_id, domain_id, scope, now)

    def create_token_pair(self, user_id: str, domain_id: str, scope: str, *, now: float | None = None) -> dict[str, Any]:
        """``{"accessToken", "refreshToken", "expiresIn", "familyId"}``."""
        return self._inner.create_token_pair(user_id, domain_id, scope, now)

    def verify_refresh_token(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """Auth Server ``RefreshTokenVerificationResult``: ``{"valid", "userId", "domainId",
        "scope"}`` or ``{"valid": False, "error": CODE}``; never raises for a bad token."""
        return self._inner.verify_refresh_token(token, now)

    def refresh(self, refresh_token: str, *, now: float | None = None) -> dict[str, Any]:
        """Rotate: a new pair in the same family."""
        return self._inner.refresh(refresh_token, now)

    def revoke_refresh_token(self, token: str) -> int:
        return self._inner.revoke_refresh_token(token)

    def revoke_user(self, user_id: str) -> int:
        return self._inner.revoke_user(user_id)

    def create_mfa_pending_token(self, user_id: str, domain_id: str, *, now: float | None = None) -> str:
        return self._inner.create_mfa_pending_token(user_id, domain_id, now)

    def verify_mfa_pending_token(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        return self._inner.verify_mfa_pending_token(token, now)

    def jwks(self) -> dict[str, Any]:
        return json.loads(self._inner.jwks_json())

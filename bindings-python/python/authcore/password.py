"""argon2-cffi-compatible password hashing backed by the Rust core (``authcore::password``).

:class:`PasswordHasher` has argon2-cffi's constructor parameters (``time_cost``,
``memory_cost``, ``parallelism``, ``hash_len``, ``salt_len``, ``encoding``), methods
(``hash``, ``verify``, ``check_needs_rehash``) and exceptions (``VerifyMismatchError``,
``VerificationError``, ``InvalidHashError``/``InvalidHash``, ``HashingError``), but its
defaults are the OWASP parameters ``m=19456 KiB, t=2, p=1`` (argon2-cffi: 64 MiB, 3, 4).
Hashes are argon2id PHC strings that argon2-cffi verifies, and the reverse.

Also: bcrypt compatible with bcryptjs (``bcrypt_hash``/``bcrypt_verify``: ``$2a$``/``$2b$``/
``$2y$``, 72-byte truncation, cost clamp) for users migrating from node-auth, and
:meth:`PasswordHasher.verify_and_upgrade`, which verifies either kind, returns the argon2id
hash to store after a successful login with an outdated hash, and, for an unknown user
(``hash=None``), does the same KDF work as a real verification.

Every KDF runs with the GIL released. Exceptions carry ``code`` and ``status``.

For asyncio: ``hash_async``, ``verify_async`` and ``verify_and_upgrade_async`` run the same
calls on a dedicated pool of :func:`kdf_concurrency` threads (default: one fewer than the
CPUs, at least one; ``AUTHCORE_KDF_CONCURRENCY`` overrides), so a burst of logins neither
blocks the event loop nor outnumbers the CPUs it needs; extra calls wait in line.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Literal, NamedTuple, TypeVar

from . import _native as _n

__all__ = [
    "Argon2Error",
    "VerificationError",
    "VerifyMismatchError",
    "HashingError",
    "InvalidHashError",
    "InvalidHash",
    "UnsupportedParametersError",
    "PasswordTooLongError",
    "PasswordHasher",
    "Verification",
    "DEFAULT_TIME_COST",
    "DEFAULT_MEMORY_COST",
    "DEFAULT_PARALLELISM",
    "DEFAULT_HASH_LENGTH",
    "DEFAULT_RANDOM_SALT_LENGTH",
    "BCRYPT_DEFAULT_COST",
    "bcrypt_hash",
    "bcrypt_hash_with_salt",
    "bcrypt_verify",
    "verify",
    "identify",
    "verify_password",
    "identify_hash",
    "kdf_concurrency",
]

#: OWASP recommended argon2id parameters (the defaults of :class:`PasswordHasher`).
DEFAULT_TIME_COST = 2
DEFAULT_MEMORY_COST = 19456
DEFAULT_PARALLELISM = 1
DEFAULT_HASH_LENGTH = 32
DEFAULT_RANDOM_SALT_LENGTH = 16
#: bcryptjs's default cost in node-auth's ``PasswordService``.
BCRYPT_DEFAULT_COST = 12
#: Longest password (bytes) accepted by :meth:`PasswordHasher.verify_and_upgrade`.
DEFAULT_MAX_PASSWORD_BYTES = 4096
#: Ceilings on the parameters of a stored hash (the core's defaults: m <= 256 MiB, t <= 10,
#: p <= 8); a hash asking for more is refused before any memory is allocated.
DEFAULT_MAX_MEMORY_COST: int = _n.ARGON2_MAX_VERIFY_MEMORY_COST
DEFAULT_MAX_TIME_COST: int = _n.ARGON2_MAX_VERIFY_TIME_COST
DEFAULT_MAX_PARALLELISM: int = _n.ARGON2_MAX_VERIFY_PARALLELISM


def kdf_concurrency() -> int:
    """How many ``*_async`` key derivations run at once (the rest wait in line)."""
    # The core's rule: AUTHCORE_KDF_CONCURRENCY (1..=1024), else CPUs - 1 (at least 1).
    return _n.kdf_concurrency_default()


_T = TypeVar("_T")
_kdf_pool: ThreadPoolExecutor | None = None
_kdf_pool_lock = threading.Lock()


async def _off_loop(fn: Callable[..., _T], *args: Any) -> _T:
    """Run ``fn(*args)`` (a KDF, GIL released) on the key-derivation pool."""
    global _kdf_pool
    if _kdf_pool is None:
        with _kdf_pool_lock:
            if _kdf_pool is None:
                _kdf_pool = ThreadPoolExecutor(max_workers=kdf_concurrency(), thread_name_prefix="authcore-kdf")
    return await asyncio.get_running_loop().run_in_executor(_kdf_pool, lambda: fn(*args))


class Argon2Error(Exception):
    """Superclass of the argon2 exceptions (argon2-cffi's ``Argon2Error``)."""

    code: str = "PASSWORD_ERROR"
    status: int = 500


class VerificationError(Argon2Error):
    """Verification failed for another reason than a mismatch."""

    code = "PASSWORD_VERIFICATION_FAILED"


class VerifyMismatchError(VerificationError):
    """The password does not match the hash."""

    code = "PASSWORD_MISMATCH"
    status = 401


class HashingError(Argon2Error):
    code = "PASSWORD_HASHING_FAILED"


class InvalidHashError(ValueError):
    """The hash is not a well-formed hash of a supported algorithm."""

    code: str = "PASSWORD_INVALID_HASH"
    status: int = 500


#: Deprecated alias, as in argon2-cffi.
InvalidHash = InvalidHashError


class UnsupportedParametersError(ValueError):
    """Parameters out of range (raised by the constructor)."""

    code: str = "PASSWORD_INVALID_PARAMS"
    status: int = 500


class PasswordTooLongError(HashingError, VerificationError):
    """The password exceeds the configured maximum (``verify_and_upgrade``)."""

    code = "PASSWORD_TOO_LONG"
    status = 400


def _ensure_bytes(s: bytes | str, encoding: str) -> bytes:
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode(encoding)
    if isinstance(s, bytearray):
        return bytes(s)
    raise TypeError(f"password must be str or bytes, not {type(s).__name__}")


class Verification(NamedTuple):
    """Outcome of :meth:`PasswordHasher.verify_and_upgrade`."""

    valid: bool
    #: When ``valid`` and the stored hash is bcrypt or outdated argon2: the new argon2id
    #: hash to store in its place.
    rehash: str | None


class PasswordHasher:
    """argon2-cffi's ``PasswordHasher`` with the OWASP defaults, argon2id only."""

    __slots__ = (
        "time_cost",
        "memory_cost",
        "parallelism",
        "hash_len",
        "salt_len",
        "encoding",
        "max_password_bytes",
        "max_memory_cost",
        "max_time_cost",
        "max_parallelism",
        "_core",
        "_lock",
    )

    def __init__(
        self,
        time_cost: int = DEFAULT_TIME_COST,
        memory_cost: int = DEFAULT_MEMORY_COST,
        parallelism: int = DEFAULT_PARALLELISM,
        hash_len: int = DEFAULT_HASH_LENGTH,
        salt_len: int = DEFAULT_RANDOM_SALT_LENGTH,
        encoding: str = "utf-8",
        *,
        max_password_bytes: int = DEFAULT_MAX_PASSWORD_BYTES,
        max_memory_cost: int = DEFAULT_MAX_MEMORY_COST,
        max_time_cost: int = DEFAULT_MAX_TIME_COST,
        max_parallelism: int = DEFAULT_MAX_PARALLELISM,
    ) -> None:
        for name, value in (
            ("time_cost", time_cost),
            ("memory_cost", memory_cost),
            ("parallelism", parallelism),
            ("hash_len", hash_len),
            ("salt_len", salt_len),
        ):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"'{name}' must be a int (got {type(value).__name__}).")
        if not isinstance(encoding, str):
            raise TypeError(f"'encoding' must be a str (got {type(encoding).__name__}).")
        if min(time_cost, memory_cost, parallelism, hash_len, salt_len) < 0:
            raise UnsupportedParametersError("parameters must be non-negative")
        _n.password_check_params(time_cost, memory_cost, parallelism, hash_len, salt_len)
        _n.password_check_limits(
            time_cost, memory_cost, parallelism, hash_len, max_memory_cost, max_time_cost, max_parallelism
        )
        self.max_memory_cost = max_memory_cost
        self.max_time_cost = max_time_cost
        self.max_parallelism = max_parallelism
        self.time_cost = time_cost
        self.memory_cost = memory_cost
        self.parallelism = parallelism
        self.hash_len = hash_len
        self.salt_len = salt_len
        self.encoding = encoding
        self.max_password_bytes = max_password_bytes
        self._core = None
        self._lock = threading.Lock()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        """Hash ``password`` with argon2id and a random salt (or ``salt``)."""
        return _n.password_hash_argon2id(
            _ensure_bytes(password, self.encoding),
            self.time_cost,
            self.memory_cost,
            self.parallelism,
            self.hash_len,
            self.salt_len,
            salt,
        )

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        """``True`` if ``password`` matches ``hash``, else :class:`VerifyMismatchError`.

        Raises :class:`InvalidHashError` for a hash that is not an argon2id PHC string
        (argon2i/argon2d included, see docs/compat.md)."""
        if isinstance(hash, bytes):
            hash = hash.decode("ascii")
        if not hash.startswith("$argon2"):
            raise InvalidHashError()
        if _n.password_verify_argon2(
            hash,
            _ensure_bytes(password, self.encoding),
            self.max_memory_cost,
            self.max_time_cost,
            self.max_parallelism,
        ):
            return True
        raise VerifyMismatchError("The password does not match the supplied hash")

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        """``True`` unless ``hash`` is argon2id v19 made with exactly these parameters."""
        if isinstance(hash, bytes):
            hash = hash.decode("ascii")
        return _n.password_argon2_needs_rehash(
            hash, self.time_cost, self.memory_cost, self.parallelism, self.hash_len, self.salt_len
        )

    def _hasher(self) -> object:
        # The core hasher precomputes the unknown-user dummy hash (one KDF run), so it is
        # built on first use, not in the constructor.
        if self._core is None:
            with self._lock:
                if self._core is None:
                    self._core = _n.PasswordHasher(
                        self.time_cost,
                        self.memory_cost,
                        self.parallelism,
                        self.hash_len,
                        self.max_password_bytes,
                        None,
                        self.max_memory_cost,
                        self.max_time_cost,
                        self.max_parallelism,
                    )
        return self._core

    def verify_and_upgrade(self, password: str | bytes, hash: str | bytes | None) -> Verification:
        """Login-time check against an argon2id **or bcrypt** hash.

        ``hash=None`` (unknown user) runs the same KDF work and returns ``valid=False``, so
        timing does not reveal whether the account exists. On success with a bcrypt or
        outdated argon2id hash, ``rehash`` is the argon2id hash to store."""
        if isinstance(hash, bytes):
            hash = hash.decode("ascii")
        valid, rehash = self._hasher().verify_and_upgrade(_ensure_bytes(password, self.encoding), hash)  # type: ignore[attr-defined]
        return Verification(valid, rehash)

    async def hash_async(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        """:meth:`hash` off the event loop (on the key-derivation pool)."""
        return await _off_loop(lambda: self.hash(password, salt=salt))

    async def verify_async(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        """:meth:`verify` off the event loop; raises the same exceptions."""
        return await _off_loop(self.verify, hash, password)

    async def verify_and_upgrade_async(self, password: str | bytes, hash: str | bytes | None) -> Verification:
        """:meth:`verify_and_upgrade` off the event loop."""
        return await _off_loop(self.verify_and_upgrade, password, hash)

    @property
    def kdf_runs(self) -> int:
        """KDF runs of :meth:`verify_and_upgrade` so far (real and unknown-user)."""
        return 0 if self._core is None else self._core.kdf_runs  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return (
            f"PasswordHasher(time_cost={self.time_cost}, memory_cost={self.memory_cost}, "
            f"parallelism={self.parallelism}, hash_len={self.hash_len}, salt_len={self.salt_len})"
        )


def bcrypt_hash(password: str | bytes, rounds: int = BCRYPT_DEFAULT_COST) -> str:
    """bcrypt hash compatible with bcryptjs ``hashSync(password, rounds)``: ``$2b$``, cost
    0 = bcryptjs's default 10, else clamped to 4..31, password silently truncated to 72 bytes."""
    return _n.password_bcrypt_hash(_ensure_bytes(password, "utf-8"), rounds)


def bcrypt_hash_with_salt(password: str | bytes, salt: str) -> str:
    """bcryptjs ``hashSync(password, salt)`` with a salt (``$2b$10$`` + 22 characters, or a
    whole hash); a malformed salt raises :class:`UnsupportedParametersError` with
    bcryptjs's message."""
    return _n.password_bcrypt_hash_with_salt(_ensure_bytes(password, "utf-8"), salt)


def bcrypt_verify(password: str | bytes, hash: str) -> bool:
    """bcryptjs ``compareSync``: ``$2a$``/``$2b$``/``$2y$``; ``False`` on mismatch,
    :class:`InvalidHashError` for a malformed hash."""
    return _n.password_bcrypt_verify(_ensure_bytes(password, "utf-8"), hash)


def verify(password: str | bytes, hash: str) -> bool:
    """Verify against an argon2id or bcrypt hash; ``False`` on mismatch (the core's
    ``password::verify``, Node's ``passwordVerify``, C's ``authcore_password_verify``)."""
    return _n.password_verify(_ensure_bytes(password, "utf-8"), hash)


def identify(hash: str) -> str | None:
    """``"argon2id"``, ``"bcrypt"`` or ``None`` (the core's ``password::identify``)."""
    return _n.password_identify(hash)


def verify_password(password: str | bytes, hash: str) -> bool:
    """Deprecated alias of :func:`verify` (the name every language shares)."""
    import warnings

    warnings.warn("authcore.password.verify_password is deprecated: use verify", DeprecationWarning, stacklevel=2)
    return verify(password, hash)


def identify_hash(hash: str) -> str | None:
    """Deprecated alias of :func:`identify` (the name every language shares)."""
    import warnings

    warnings.warn("authcore.password.identify_hash is deprecated: use identify", DeprecationWarning, stacklevel=2)
    return identify(hash)

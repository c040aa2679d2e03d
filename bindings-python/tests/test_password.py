"""authcore.password against argon2-cffi (hashes verify both ways, same rehash decisions,
same exception names), bcryptjs vectors, verify-and-upgrade, the unknown-user KDF path and
the GIL released while hashing."""

from __future__ import annotations

import json
import pathlib
import threading
import time

import argon2
import pytest

import authcore.password as pw

FAST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
VECTORS = pathlib.Path(__file__).resolve().parents[2] / "ffi-tests" / "vectors"


def test_defaults_are_owasp():
    ph = pw.PasswordHasher()
    assert (ph.time_cost, ph.memory_cost, ph.parallelism, ph.hash_len, ph.salt_len) == (2, 19456, 1, 32, 16)
    assert ph.hash("pw").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize(
    "params",
    [FAST, {"time_cost": 2, "memory_cost": 2048, "parallelism": 2}, {"time_cost": 1, "memory_cost": 1024, "parallelism": 1, "hash_len": 16, "salt_len": 8}],
)
@pytest.mark.parametrize("password", ["correct horse", "pässwörd ☃", "", b"\x00\xffraw"])
def test_hashes_verify_both_ways(params, password):
    ours = pw.PasswordHasher(**params)
    theirs = argon2.PasswordHasher(**params)
    mine = ours.hash(password)
    cffi = theirs.hash(password)
    assert theirs.verify(mine, password) is True
    assert ours.verify(cffi, password) is True
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        theirs.verify(mine, "wrong")
    with pytest.raises(pw.VerifyMismatchError) as info:
        ours.verify(cffi, "wrong")
    assert isinstance(info.value, pw.VerificationError)
    assert not ours.check_needs_rehash(cffi) and not theirs.check_needs_rehash(mine)


def test_owasp_defaults_interoperate():
    ours = pw.PasswordHasher()
    theirs = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    assert theirs.verify(ours.hash("s3cret"), "s3cret")
    assert ours.verify(theirs.hash("s3cret"), "s3cret")


def test_explicit_salt_gives_argon2_cffi_bytes():
    salt = b"0123456789abcdef"
    assert pw.PasswordHasher(**FAST).hash("pw", salt=salt) == argon2.PasswordHasher(**FAST).hash("pw", salt=salt)


def test_check_needs_rehash_matches_argon2_cffi():
    hashes = [
        argon2.PasswordHasher(**FAST).hash("x"),
        argon2.PasswordHasher(**FAST, salt_len=24).hash("x"),
        argon2.PasswordHasher(**FAST, hash_len=16).hash("x"),
        argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash("x"),
        argon2.PasswordHasher(**FAST, type=argon2.Type.I).hash("x"),
        argon2.PasswordHasher(**FAST, type=argon2.Type.D).hash("x"),
    ]
    for h in hashes:
        assert pw.PasswordHasher(**FAST).check_needs_rehash(h) == argon2.PasswordHasher(**FAST).check_needs_rehash(h), h
        assert pw.PasswordHasher(**FAST).check_needs_rehash(h.encode()) == argon2.PasswordHasher(**FAST).check_needs_rehash(h)


def test_exceptions_mirror_argon2_cffi():
    assert pw.InvalidHash is pw.InvalidHashError
    for name in ("VerificationError", "VerifyMismatchError", "HashingError", "InvalidHashError", "UnsupportedParametersError"):
        ours = [c.__name__ for c in getattr(pw, name).__mro__ if c.__module__ == "authcore.password"]
        theirs = [c.__name__ for c in getattr(argon2.exceptions, name).__mro__ if c.__module__ == "argon2.exceptions"]
        assert ours == theirs, name
        assert issubclass(getattr(pw, name), ValueError) == issubclass(getattr(argon2.exceptions, name), ValueError)


@pytest.mark.parametrize(
    "bad",
    ["", "nonsense", "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "$argon2id$v=19$m=19456,t=2,p=1$o1MA5sl7R"],
)
def test_invalid_hashes_raise_invalid_hash_error(bad):
    with pytest.raises(pw.InvalidHashError) as info:
        pw.PasswordHasher().verify(bad, "pw")
    assert info.value.code == "PASSWORD_INVALID_HASH"
    # argon2-cffi rejects them too (a truncated argon2id string as VerificationError).
    with pytest.raises((argon2.exceptions.InvalidHashError, argon2.exceptions.VerificationError)):
        argon2.PasswordHasher().verify(bad, "pw")


def test_argon2i_is_refused_with_a_typed_error():
    h = argon2.PasswordHasher(**FAST, type=argon2.Type.I).hash("pw")
    with pytest.raises(pw.InvalidHashError) as info:
        pw.PasswordHasher().verify(h, "pw")
    assert info.value.code == "PASSWORD_UNSUPPORTED_ALGORITHM"


def test_constructor_validation():
    with pytest.raises(TypeError):
        pw.PasswordHasher(time_cost="2")  # type: ignore[arg-type]
    for bad in ({"memory_cost": 1}, {"time_cost": 0}, {"salt_len": 4}, {"parallelism": 0}):
        with pytest.raises(pw.UnsupportedParametersError) as info:
            pw.PasswordHasher(**bad)
        assert info.value.code == "PASSWORD_INVALID_PARAMS"


def test_bcryptjs_vectors_verify():
    cases = json.loads((VECTORS / "password-bcrypt.json").read_text())["cases"]
    ok = [c["input"] for c in cases if c["op"] == "bcrypt_verify" and c["expect"] == {"ok": True}]
    assert len(ok) >= 5
    for i in ok:
        assert pw.bcrypt_verify(i["password"], i["hash"]) is True
        assert pw.verify(i["password"], i["hash"]) is True
        assert pw.bcrypt_verify(i["password"] + "x", i["hash"]) is (len(i["password"].encode()) >= 72)


def test_bcrypt_hash_roundtrip_and_truncation():
    h = pw.bcrypt_hash("a" * 72, rounds=4)
    assert h.startswith("$2b$04$") and len(h) == 60
    assert pw.bcrypt_verify("a" * 72 + "ignored", h)
    assert pw.bcrypt_hash("x", rounds=1).startswith("$2b$04$")  # cost clamp
    with pytest.raises(pw.InvalidHashError):
        pw.bcrypt_verify("x", "$2x$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234")
    assert pw.identify(h) == "bcrypt" and pw.identify(pw.PasswordHasher(**FAST).hash("x")) == "argon2id"
    assert pw.identify("plain") is None


def test_verify_password_and_identify_hash_are_deprecated_aliases():
    h = pw.bcrypt_hash("pw", rounds=4)
    with pytest.warns(DeprecationWarning, match="use verify"):
        assert pw.verify_password("pw", h) is True
    with pytest.warns(DeprecationWarning, match="use verify"):
        assert pw.verify_password("nope", h) is False
    with pytest.warns(DeprecationWarning, match="use identify"):
        assert pw.identify_hash(h) == "bcrypt"
    assert {"verify", "identify", "verify_password", "identify_hash"} <= set(pw.__all__)


def test_verify_and_upgrade_migrates_bcrypt_to_argon2id():
    ph = pw.PasswordHasher(**FAST)
    legacy = pw.bcrypt_hash("hunter2", rounds=4)
    v = ph.verify_and_upgrade("hunter2", legacy)
    assert v.valid and v.rehash is not None
    assert argon2.PasswordHasher(**FAST).verify(v.rehash, "hunter2")
    assert ph.verify_and_upgrade("hunter2", v.rehash) == pw.Verification(True, None)
    assert ph.verify_and_upgrade("wrong", legacy) == pw.Verification(False, None)
    outdated = argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash("hunter2")
    assert ph.verify_and_upgrade("hunter2", outdated).rehash is not None


def _medians_interleaved(f, g, n=9):
    """The median of n interleaved runs of each (on this shared VM a single KDF run
    varies 2x either way, so neither one run nor the fastest run is representative)."""
    tf, tg = [], []
    for _ in range(n):
        for fn, out in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return sorted(tf)[n // 2], sorted(tg)[n // 2]


def test_unknown_user_costs_a_real_kdf_run():
    """node-auth §6: a login for an unknown user returned early; ours runs the same KDF."""
    ph = pw.PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    stored = ph.hash("pw")
    assert ph.kdf_runs == 0
    assert ph.verify_and_upgrade("pw", None) == pw.Verification(False, None)
    assert ph.kdf_runs == 1
    runs = ph.kdf_runs
    real, dummy = _medians_interleaved(
        lambda: ph.verify_and_upgrade("wrong", stored),
        lambda: ph.verify_and_upgrade("wrong", None),
    )
    assert ph.kdf_runs == runs + 18
    # The same KDF costs the same up to the VM's noise (2x either way); an early return
    # would cost microseconds against milliseconds, a ratio near 0.001.
    assert dummy > 0.25 * real, (dummy, real)


def test_password_too_long_is_typed():
    ph = pw.PasswordHasher(**FAST, max_password_bytes=16)
    with pytest.raises(pw.PasswordTooLongError) as info:
        ph.verify_and_upgrade("x" * 17, None)
    assert info.value.status == 400 and isinstance(info.value, pw.VerificationError)


def test_gil_is_released_while_hashing():
    """Another Python thread keeps running while a 64 MiB argon2id hash is computed."""
    ph = pw.PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)
    done = threading.Event()
    result = []

    def work():
        result.append(ph.hash("pw"))
        done.set()

    ticks = 0
    t = threading.Thread(target=work)
    start = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
    elapsed = time.perf_counter() - start
    t.join()
    assert result and result[0].startswith("$argon2id$")
    # Holding the GIL would leave this loop a few switch intervals (5 ms each) at most.
    assert elapsed > 0.02
    assert ticks > 20_000, (ticks, elapsed)


def test_async_methods_match_the_sync_ones_and_raise_the_same_errors():
    import asyncio

    ph = pw.PasswordHasher()

    async def flow():
        h = await ph.hash_async("s3cret")
        assert await ph.verify_async(h, "s3cret") is True
        with pytest.raises(pw.VerifyMismatchError):
            await ph.verify_async(h, "wrong")
        with pytest.raises(pw.InvalidHashError):
            await ph.verify_async("$argon2id$garbage", "x")
        assert argon2.PasswordHasher().verify(h, "s3cret")
        legacy = pw.bcrypt_hash("s3cret", 4)
        up = await ph.verify_and_upgrade_async("s3cret", legacy)
        assert up.valid and up.rehash is not None and ph.verify(up.rehash, "s3cret")
        unknown = await ph.verify_and_upgrade_async("s3cret", None)
        assert unknown == pw.Verification(False, None)

    asyncio.run(flow())


def test_async_hashing_leaves_the_event_loop_free_and_uses_the_bounded_pool():
    import asyncio

    ph = pw.PasswordHasher()  # OWASP parameters

    # Measured by CPU time, not wall-clock lag: on a loaded 2-core machine a lag bound
    # measures the OS scheduler. The event loop's thread must spend a small share of the
    # process's CPU while the hashes run, and the loop must keep turning.
    async def cpu_during(work) -> tuple[float, float, int, object]:
        ticks = 0
        done = False

        async def ticker():
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.005)
        ticks_before = ticks
        main0, proc0 = time.thread_time(), time.process_time()
        result = await work()
        main, proc = time.thread_time() - main0, time.process_time() - proc0
        turned = ticks - ticks_before
        done = True
        await task
        return main, proc, turned, result

    async def flow():
        main, proc, turned, hashes = await cpu_during(
            lambda: asyncio.gather(*(ph.hash_async(f"pw{i}") for i in range(8)))
        )
        assert proc >= 0.05, f"8 OWASP hashes cost only {proc * 1000:.1f} ms of CPU"
        assert main / proc < 0.25, f"the loop's thread spent {main * 1000:.1f} of {proc * 1000:.1f} ms CPU"
        assert turned >= 1, "the event loop did not turn while hashing"
        assert all(ph.verify(h, f"pw{i}") for i, h in enumerate(hashes))

        # Control: the same work called synchronously on the loop is all the loop's CPU.
        async def blocking():
            t0 = time.perf_counter()
            n = 0
            while time.perf_counter() - t0 < 0.080:
                ph.hash(f"pw{n}")
                n += 1
            return n

        main, proc, _, n = await cpu_during(blocking)
        assert n >= 1 and proc > 0
        assert main / proc > 0.75, f"sync hashing: the loop's thread spent {main * 1000:.1f} of {proc * 1000:.1f} ms CPU"

    asyncio.run(flow())
    workers = [t for t in threading.enumerate() if t.name.startswith("authcore-kdf")]
    assert 1 <= len(workers) <= pw.kdf_concurrency()


def test_kdf_concurrency_default(monkeypatch):
    import os

    monkeypatch.delenv("AUTHCORE_KDF_CONCURRENCY", raising=False)
    assert pw.kdf_concurrency() == max(1, (os.cpu_count() or 1) - 1)
    monkeypatch.setenv("AUTHCORE_KDF_CONCURRENCY", "3")
    assert pw.kdf_concurrency() == 3
    monkeypatch.setenv("AUTHCORE_KDF_CONCURRENCY", "zero")
    assert pw.kdf_concurrency() == max(1, (os.cpu_count() or 1) - 1)


def test_stored_hash_ceilings():
    # A tampered hash asking for more than the ceilings (default m <= 256 MiB, t <= 10,
    # p <= 8) is refused before any memory is allocated; the ceilings are configurable.
    ph = pw.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    good = ph.hash("pw")
    assert ph.verify(good, "pw")
    for field, value in (("m=1024", "m=262145"), ("t=1", "t=11"), ("p=1", "p=9")):
        tampered = good.replace(field, value)
        with pytest.raises(pw.VerificationError) as info:
            ph.verify(tampered, "pw")
        assert info.value.code == "PASSWORD_INVALID_PARAMS"
    assert (pw.DEFAULT_MAX_MEMORY_COST, pw.DEFAULT_MAX_TIME_COST, pw.DEFAULT_MAX_PARALLELISM) == (262144, 10, 8)
    strict = pw.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, max_memory_cost=1024, max_time_cost=1)
    assert strict.verify(good, "pw")
    with pytest.raises(pw.VerificationError):
        strict.verify(ph.hash("pw").replace("t=1", "t=2"), "pw")
    with pytest.raises(pw.VerificationError):
        strict.verify_and_upgrade("pw", good.replace("m=1024", "m=2048"))
    # The hasher's own parameters must be within its ceilings.
    with pytest.raises(pw.UnsupportedParametersError) as info:
        pw.PasswordHasher(memory_cost=524288)
    assert "ceilings" in str(info.value)
    pw.PasswordHasher(time_cost=1, memory_cost=524288, parallelism=1, max_memory_cost=524288)

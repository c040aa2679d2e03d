"""A Rust panic surfaces one way in every module: ``authcore.errors.InternalPanicError``
(code ``INTERNAL_PANIC``, status 500, the core's message), raised by the binding's one
catch-unwind helper (``errors::guard``) or its async form (``errors::CatchUnwind``). The
hidden ``_native._panic_for_tests`` hook panics on purpose inside each."""

from __future__ import annotations

import asyncio

import pytest

import authcore.hmac as h
from authcore import _native
from authcore.errors import HmacInternalError, InternalPanicError


def message(where: str) -> str:
    return f"internal error (panic caught at the authcore Python boundary): a test panic ({where})"


def test_a_sync_panic_raises_the_one_panic_exception() -> None:
    with pytest.raises(InternalPanicError) as info:
        _native._panic_for_tests("sync")
    e = info.value
    assert (e.code, e.status, e.message) == ("INTERNAL_PANIC", 500, message("sync"))
    # What the functions raised before: both kinds of handler still catch it.
    assert isinstance(e, HmacInternalError) and isinstance(e, RuntimeError)
    # The extension keeps working after a panic.
    assert len(h.generate_nonce()) == 32


def test_an_async_panic_raises_the_same_exception() -> None:
    async def run() -> None:
        await _native._panic_for_tests("async")

    with pytest.raises(InternalPanicError) as info:
        asyncio.run(run())
    assert (info.value.code, info.value.status, info.value.message) == ("INTERNAL_PANIC", 500, message("async"))

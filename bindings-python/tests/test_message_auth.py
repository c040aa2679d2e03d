"""Spec §4 `message-auth.test.ts` ported: the store-backed message track."""

from __future__ import annotations

import asyncio
import time

import pytest

import authcore.hmac as h
from authcore.errors import HmacAuthError


def test_redis_backed_sign_verify_without_replay_protection(store, ns):
    auth = h.HmacMessageAuth(store=store, namespace=ns)
    auth.clients.set_secret("app_msg", "msg_secret")
    signed = auth.sign_message("app_msg", {"event": "order.created", "id": 42})
    assert signed.signature == "ee0acb29893dafac311f1d9da14d106e3acfcd48b94582fbdf78ca134787211f"
    assert signed.message_hash == "28c75b2fec00b38a0a5aa17e07077ac57ccb5902683963893724dbb7d8e1d2f3"
    first = auth.verify_message("app_msg", {"id": 42, "event": "order.created"}, signed.signature)
    assert (first.client_id, first.message_hash) == ("app_msg", signed.message_hash)
    again = auth.verify_message("app_msg", {"id": 42, "event": "order.created"}, signed.signature)
    assert again.signature == signed.signature  # no nonce: verifies any number of times
    with pytest.raises(HmacAuthError) as info:
        auth.verify_message("unknown_msg", {"event": "order.created"}, signed.signature)
    assert (info.value.code, info.value.status) == ("UNKNOWN_CLIENT", 401)
    with pytest.raises(HmacAuthError) as info:
        auth.sign_message("unknown_msg", {"event": "order.created"})
    assert (info.value.code, info.value.status, info.value.message) == (
        "CLIENT_NOT_FOUND", 404, "Cannot sign message: client not found")


def test_message_errors(store, ns):
    auth = h.HmacMessageAuth(store=store, namespace=ns)
    auth.clients.set_secret("app_msg", "msg_secret")
    for sig in (None, "", "   "):
        with pytest.raises(HmacAuthError) as info:
            auth.verify_message("app_msg", {}, sig)
        assert (info.value.code, info.value.message) == ("MISSING_SIGNATURE", "Missing message signature")
    with pytest.raises(HmacAuthError) as info:
        auth.verify_message("app_msg", {"a": 1}, "0" * 64)
    assert (info.value.code, info.value.message) == ("BAD_SIGNATURE", "Invalid message signature")
    with pytest.raises(HmacAuthError) as info:
        auth.sign_message(" ", {})
    assert (info.value.code, info.value.status) == ("MISSING_CLIENT_ID", 400)
    auth.clients.set_secret("old", "s", expires_at=time.time() * 1000 - 1)
    with pytest.raises(HmacAuthError) as info:
        auth.sign_message("old", {})
    assert info.value.code == "CLIENT_EXPIRED"


def test_message_regenerate_with_plain_secret(store, ns):
    auth = h.HmacMessageAuth(store=store, namespace=ns)
    auth.clients.create("app_msg_regen", plain_secret="initial_msg_secret")
    r = auth.clients.regenerate_secret("app_msg_regen", plain_secret="custom_msg_secret")
    assert r.secret == "custom_msg_secret"
    assert r.secret_hash == h.hash_client_secret("custom_msg_secret")
    assert auth.clients.get("app_msg_regen").secret_hash == r.secret_hash


def test_message_and_http_tracks_share_a_namespace(store, ns):
    http = h.HmacHttpAuth(store=store, namespace=ns)
    msg = h.HmacMessageAuth(store=store, namespace=ns)
    http.clients.set_secret("shared", "s")
    assert msg.clients.get_secret_hash("shared") == h.hash_client_secret("s")
    standalone = h.sign_message("shared", [1, 2], h.hash_client_secret("s"), secret_is_hashed=True)
    assert msg.verify_message("shared", [1, 2], standalone.signature).signature == standalone.signature


def test_async_message_flow(store, ns):
    auth = h.HmacMessageAuth(store=store, namespace=ns)
    auth.clients.set_secret("app_msg", "msg_secret")

    async def run():
        s = await auth.sign_message_async("app_msg", {"k": "v"})
        v = await auth.verify_message_async("app_msg", {"k": "v"}, s.signature)
        with pytest.raises(HmacAuthError):
            await auth.verify_message_async("app_msg", {"k": "w"}, s.signature)
        return s, v

    s, v = asyncio.run(run())
    assert s == v

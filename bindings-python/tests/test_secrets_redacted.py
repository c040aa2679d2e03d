"""Secrets stay out of printouts: ``repr`` and ``str`` of every public class that holds a
secret (the plain secret, the secret hash, the pepper, the propagation secret, the AMQP
password, JWT key bytes, API tokens, TOTP secrets) and the errors of store URLs never
contain the secret's bytes."""

from __future__ import annotations

import asyncio

import pytest

import authcore.hmac as h
from authcore import jwt, propagation, tokens, totp
from authcore.errors import HmacError

PLAIN = "plain-Secret-4c1d"
PEPPER = "pepper-Token-77aa"
PROPAGATION_SECRET = "propagation-Secret-0b2e"
AMQP_PASSWORD = "amqp-Password-19ff"
JWT_SECRET = "jwt-Hmac-Key-Bytes-6d6d"


def printed(obj: object) -> str:
    return repr(obj) + "\n" + str(obj)


def assert_clean(obj: object, *secrets: str) -> None:
    text = printed(obj)
    for s in secrets:
        assert s not in text, f"{s!r} printed in {text}"


def test_credentials_and_instances():
    auth = h.HmacHttpAuth(secret_token=PEPPER)
    created = auth.clients.create("app", plain_secret=PLAIN)
    secret_hash = created.secret_hash
    assert created.secret == PLAIN and len(secret_hash) == 64
    assert_clean(created, PLAIN, secret_hash, PEPPER)
    assert "[REDACTED]" in repr(created)
    fetched = auth.clients.get("app")
    assert_clean(fetched, secret_hash)
    auth.clients.set_secret("app", "second-" + PLAIN)
    reverted = auth.clients.revert("app")
    assert reverted.restored_secret_hash == secret_hash
    assert_clean(reverted, secret_hash)
    assert_clean(auth, PEPPER, PLAIN)
    assert_clean(h.HmacMessageAuth(secret_token=PEPPER), PEPPER)
    assert auth.secret_token == PEPPER  # still readable on purpose
    assert_clean(h.HmacHttpxAuth("app", PLAIN), PLAIN)
    assert_clean(h.HmacRequestsAuth("app", PLAIN, hash_token=PEPPER), PLAIN, PEPPER)
    assert_clean(h.HmacHttpxAuth("app", secret_hash, secret_is_hashed=True), secret_hash)


def test_propagation_inputs():
    for obj in [
        propagation.UpsertInput("c", "http", "credential.create", PLAIN, None, None, ["b"]),
        propagation.RotateInput("c", "http", PLAIN),
        propagation.PendingTarget("b", PROPAGATION_SECRET),
        propagation.PendingPropagation(
            "c", "http", "credential.create", PLAIN, [propagation.PendingTarget("b", PROPAGATION_SECRET)]
        ),
    ]:
        assert_clean(obj, PLAIN, PROPAGATION_SECRET)


def test_propagator_holds_no_printable_secret():
    async def flow():
        prop = await propagation.create_propagator(
            amqp_host="secrets-redacted-mesh",
            amqp_port=5672,
            amqp_user="guest",
            amqp_password=AMQP_PASSWORD,
            amqp_protocol="memory",
            amqp_queue="peer-a",
            propagation_secret=PROPAGATION_SECRET,
            redis="memory://",
            hmac_http_auth=h.HmacHttpAuth(secret_token=PEPPER),
        )
        try:
            assert_clean(prop, AMQP_PASSWORD, PROPAGATION_SECRET, PEPPER)
        finally:
            await prop.close()

    asyncio.run(flow())


def test_tokens_totp_and_jwt_keys():
    generated = tokens.generate_api_token()
    assert_clean(generated, generated.token)
    key = tokens.generate_node_api_key()
    assert_clean(key, key.raw_key)
    secret = totp.generate_secret_for("a@example.com", "Issuer")
    assert_clean(secret, secret.secret)
    assert_clean(totp.TOTP(secret.secret), secret.secret)
    keys = jwt.KeySet()
    keys.add("HS256", JWT_SECRET)
    assert_clean(keys, JWT_SECRET)
    manager = jwt.TokenManager("https://issuer.example", JWT_SECRET)
    assert_clean(manager, JWT_SECRET)


@pytest.mark.parametrize(
    "url",
    ["redis://user:hunter2-db@127.0.0.1:1/", "redis://:hunter2-db@127.0.0.1:notaport", "mysql://u:hunter2-db@db/"],
)
def test_store_urls_never_echo_passwords(url):
    with pytest.raises(HmacError) as info:
        h.Store.redis(url)
    assert "hunter2-db" not in str(info.value) and "hunter2-db" not in repr(info.value)

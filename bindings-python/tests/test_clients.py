"""Spec §4 `clients.test.ts` ported, plus the lifecycle gaps the spec lists (revert,
backup TTL, setSecretHash normalisation, legacy records), on the memory store and on
real Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest

import authcore.hmac as h
from authcore.errors import HmacArgumentError, HmacAuthError, HmacInputError


def make(store, ns, **kw):
    return h.HmacHttpAuth(store=store, namespace=ns, max_skew_ms=5000, **kw)


def test_create_list_regenerate_delete(store, ns):
    auth = make(store, ns)
    now = time.time() * 1000
    created = auth.clients.create("client_admin", expires_at=now + 60000, secret_length_bytes=16)
    assert created.client_id == "client_admin"
    assert len(created.secret) == 32
    assert created.secret_hash == h.hash_client_secret(created.secret)
    assert created.allowed_ips == []
    assert created.expires_at == int(now + 60000) or created.expires_at == now + 60000
    assert "client_admin" in auth.clients.list_client_ids()
    regenerated = auth.clients.regenerate_secret("client_admin")
    assert regenerated.client_id == "client_admin"
    assert regenerated.secret != created.secret
    assert regenerated.allowed_ips == []
    assert regenerated.expires_at == created.expires_at  # preserved by default
    auth.clients.delete("client_admin")
    assert auth.clients.get("client_admin") is None
    assert "client_admin" not in auth.clients.list_client_ids()


def test_plain_secret_gives_deterministic_hash(store, ns):
    auth = make(store, ns)
    a = auth.clients.create("client_a", plain_secret="helloworld")
    b = auth.clients.create("client_b", plain_secret="helloworld")
    assert a.secret == b.secret == "helloworld"
    assert a.secret_hash == b.secret_hash == "936a185caaa266bb9cbe981e9e05cb78cd732b0b3280eb944412bb6f8f8f07af"
    assert auth.clients.get("client_a").secret_hash == a.secret_hash


def test_empty_plain_secret_is_rejected(store, ns):
    auth = make(store, ns)
    for bad in ("   ", "", None):
        with pytest.raises(HmacArgumentError) as info:
            auth.clients.create("client_empty", plain_secret=bad)
        assert str(info.value) == "plainSecret cannot be empty"
    assert auth.clients.get("client_empty") is None


def test_regenerate_with_plain_secret(store, ns):
    auth = make(store, ns)
    auth.clients.create("client_regen", plain_secret="first_secret")
    r = auth.clients.regenerate_secret("client_regen", plain_secret="my_custom_secret")
    assert r.secret == "my_custom_secret"
    assert r.secret_hash == h.hash_client_secret("my_custom_secret")
    assert auth.clients.get("client_regen").secret_hash == r.secret_hash


def test_allowed_ips_lifecycle(store, ns):
    auth = make(store, ns)
    c = auth.clients.create("ip_client", plain_secret="s", allowed_ips=["10.0.0.1", "10.0.0.0/24"])
    assert c.allowed_ips == ["10.0.0.1", "10.0.0.0/24"]
    auth.clients.set_allowed_ips("ip_client", ["172.16.1.5", "172.16.0.0/16"])
    assert auth.clients.get("ip_client").allowed_ips == ["172.16.1.5", "172.16.0.0/16"]
    auth.clients.set_secret("ip_client", "secret_rotated", allowed_ips=["192.168.1.1"])
    assert auth.clients.get("ip_client").allowed_ips == ["192.168.1.1"]
    r = auth.clients.regenerate_secret("ip_client", plain_secret="secret_rotated_again", allowed_ips=["203.0.113.0/24"])
    assert r.allowed_ips == ["203.0.113.0/24"]
    auth.clients.set_allowed_ips("ip_client", None)
    assert auth.clients.get("ip_client").allowed_ips == []
    with pytest.raises(HmacArgumentError, match="Invalid allowedIps entry 'nope'"):
        auth.clients.set_allowed_ips("ip_client", ["nope"])
    with pytest.raises(HmacArgumentError, match="must be an array"):
        auth.clients.set_allowed_ips("ip_client", "10.0.0.1")
    with pytest.raises(HmacAuthError) as info:
        auth.clients.set_allowed_ips("missing", ["10.0.0.1"])
    assert (info.value.code, info.value.status, info.value.message) == (
        "CLIENT_NOT_FOUND", 404, "Cannot set allowedIps: client not found")


def test_allowed_ips_not_a_list_is_checked_after_the_client(store, ns):
    """Like the original (and Node): a missing client is CLIENT_NOT_FOUND whatever the
    list; a bad list on an existing client is the argument error, nothing written."""
    auth = make(store, ns)
    with pytest.raises(HmacAuthError) as info:
        auth.clients.set_allowed_ips("nobody", "10.0.0.1")
    assert (info.value.code, info.value.status) == ("CLIENT_NOT_FOUND", 404)
    with pytest.raises(HmacAuthError) as info:
        auth.clients.regenerate_secret("nobody", allowed_ips="10.0.0.1")
    assert info.value.code == "CLIENT_NOT_FOUND"
    with pytest.raises(HmacArgumentError, match="expiresAt must be a valid timestamp"):
        auth.clients.create("c", expires_at="soon", allowed_ips="10.0.0.1")
    auth.clients.create("c", plain_secret="s")
    with pytest.raises(HmacArgumentError, match="allowedIps must be an array of IP/CIDR strings"):
        auth.clients.set_secret("c", "t", allowed_ips=42)
    assert auth.clients.revert("c").reverted is False


def test_random_regeneration_length(store, ns):
    auth = make(store, ns)
    auth.clients.create("regen_random", plain_secret="seed_secret")
    assert len(auth.clients.regenerate_secret("regen_random", secret_length_bytes=24).secret) == 48
    for bad in (8, 129, 16.5, "x"):
        with pytest.raises(HmacArgumentError, match="secretLengthBytes must be an integer between 16 and 128"):
            auth.clients.regenerate_secret("regen_random", secret_length_bytes=bad)


def test_client_id_checks_and_errors(store, ns):
    auth = make(store, ns)
    for call in (
        lambda: auth.clients.create("  "),
        lambda: auth.clients.get(""),
        lambda: auth.clients.delete(" "),
        lambda: auth.clients.set_secret(" ", "x"),
        lambda: auth.clients.revert("\t"),
    ):
        with pytest.raises(HmacAuthError) as info:
            call()
        assert (info.value.code, info.value.status, info.value.message) == (
            "MISSING_CLIENT_ID", 400, "clientId cannot be empty")
    with pytest.raises(HmacAuthError) as info:
        auth.clients.regenerate_secret("nobody")
    assert (info.value.code, info.value.status, info.value.message) == (
        "CLIENT_NOT_FOUND", 404, "Cannot regenerate secret: client not found")
    with pytest.raises(HmacInputError, match="unexpected keyword argument 'expiresAt'"):
        auth.clients.create("x", expiresAt=5)
    with pytest.raises(HmacArgumentError, match="^expiresAt must be a valid timestamp or Date$"):
        auth.clients.create("x", expires_at="tomorrow")
    with pytest.raises(HmacArgumentError, match="^expiresAt must be a valid timestamp or Date$"):
        auth.clients.set_secret("x", "s", expires_at=float("nan"))


def test_expires_at_forms(store, ns):
    auth = make(store, ns)
    when = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    assert auth.clients.create("e1", plain_secret="s", expires_at=when).expires_at == 1893456000000
    assert auth.clients.create("e2", plain_secret="s", expires_at="1893456000000").expires_at == 1893456000000
    assert auth.clients.create("e3", plain_secret="s", expires_at="").expires_at == 0  # Number("") is 0
    auth.clients.set_secret("e1", "s2")  # keeps expiresAt
    assert auth.clients.get("e1").expires_at == 1893456000000
    auth.clients.set_secret("e1", "s3", expires_at=None)  # clears it
    assert auth.clients.get("e1").expires_at is None
    r = auth.clients.regenerate_secret("e2", preserve_expires_at=False)
    assert r.expires_at is None


def test_set_secret_upsert_backup_and_revert(store, ns):
    auth = make(store, ns, backup_ttl_seconds=60)
    auth.clients.set_secret("rot", "A")
    ha, hb, hc = (h.hash_client_secret(s) for s in "ABC")
    assert auth.clients.get_secret_hash("rot") == ha
    assert auth.clients.revert("rot").reverted is False  # nothing to revert yet
    auth.clients.set_secret("rot", "B")
    auth.clients.set_secret("rot", "C")
    assert store.get(f"{ns}:credentials-backup:rot") == hb  # one level of undo
    result = auth.clients.revert("rot")
    assert (result.reverted, result.restored_secret_hash) == (True, hb)
    assert auth.clients.get_secret_hash("rot") == hb
    assert store.get(f"{ns}:credentials-backup:rot") is None
    assert auth.clients.revert("rot").reverted is False  # no redo
    # Same hash again: no backup.
    auth.clients.set_secret("rot", "B")
    assert store.get(f"{ns}:credentials-backup:rot") is None
    assert hc != hb


def test_revert_with_deleted_record_drops_backup(store, ns):
    auth = make(store, ns)
    auth.clients.set_secret("gone", "A")
    auth.clients.set_secret("gone", "B")
    auth.clients.delete("gone")
    assert store.get(f"{ns}:credentials-backup:gone") == h.hash_client_secret("A")  # delete leaves it
    assert auth.clients.revert("gone").reverted is False
    assert store.get(f"{ns}:credentials-backup:gone") is None


def test_set_secret_hash_normalises(store, ns):
    auth = make(store, ns)
    auth.clients.set_secret_hash("hh", "  ABCDEF  ")
    assert auth.clients.get_secret_hash("hh") == "abcdef"


def test_secret_token_peppers_hashes(store, ns):
    auth = make(store, ns, secret_token="abc")
    a = auth.clients.create("client_a", plain_secret="helloworld")
    b = auth.clients.create("client_b", plain_secret="helloworld")
    assert a.secret_hash == b.secret_hash == "0105ed202884013134511a8b6418ff91a7d2f9b61b7831cd107d73a4fe646e7c"
    assert a.secret_hash != h.hash_client_secret("helloworld")
    assert auth.secret_token == "abc"


def test_record_json_and_key_layout_on_redis(redis_store, namespace, redis_client):
    auth = h.HmacHttpAuth(store=redis_store, namespace=namespace)
    c = auth.clients.create("layout", plain_secret="secret_a", allowed_ips=["10.0.0.0/8"])
    raw = redis_client.hget(f"{namespace}:clients", "layout")
    assert raw == (
        '{"secretHash":"%s","createdAt":%d,"updatedAt":%d,"expiresAt":null,"allowedIps":["10.0.0.0/8"]}'
        % (c.secret_hash, c.created_at, c.updated_at)
    )
    assert json.loads(raw)["secretHash"] == h.hash_client_secret("secret_a")
    auth.clients.set_secret("layout", "other")
    assert redis_client.get(f"{namespace}:credentials-backup:layout") == c.secret_hash
    assert 0 < redis_client.ttl(f"{namespace}:credentials-backup:layout") <= 600


def test_legacy_plain_hash_record_is_read(store, ns):
    auth = make(store, ns)
    store.hset(f"{ns}:clients", "legacy", h.hash_client_secret("secret_a"))
    cred = auth.clients.get("legacy")
    assert cred.secret_hash == h.hash_client_secret("secret_a")
    assert (cred.created_at, cred.expires_at, cred.allowed_ips) == (0, None, [])
    assert cred.to_dict()["clientId"] == "legacy"


def test_default_namespace_and_bad_options():
    auth = h.HmacHttpAuth()
    assert auth.namespace == "hmacauth"
    assert auth.max_skew_ms == 300000
    assert auth.store.kind == "memory"
    with pytest.raises(HmacArgumentError, match="^Namespace cannot be empty$"):
        h.HmacHttpAuth(namespace="  ")
    with pytest.raises(HmacArgumentError, match="secretLengthBytes"):
        h.HmacHttpAuth(default_secret_length_bytes=8)
    with pytest.raises(HmacInputError):
        h.HmacHttpAuth(store="redis://x")
    with pytest.raises(HmacInputError):
        h.HmacHttpAuth(redis_url="redis://127.0.0.1:6379", store=h.Store.memory())


@pytest.mark.parametrize("bad", [0, -5, 1.5, float("nan"), float("inf"), 31_536_001])
def test_backup_ttl_out_of_range_fails_at_construction(store, ns, bad):
    # The original fails at the first rotation (Redis refuses the EX value); the core
    # refuses the setting up front.
    with pytest.raises(HmacArgumentError) as info:
        make(store, ns, backup_ttl_seconds=bad)
    assert str(info.value) == "dbSeedBackupTtlSeconds must be an integer between 1 and 31536000"


def test_async_twins(store, ns):
    auth = make(store, ns)

    async def flow():
        c = await auth.clients.create_async("as", plain_secret="one")
        assert "as" in await auth.clients.list_client_ids_async()
        await auth.clients.set_secret_async("as", "two")
        assert await auth.clients.get_secret_hash_async("as") == h.hash_client_secret("two")
        r = await auth.clients.revert_async("as")
        assert r.restored_secret_hash == c.secret_hash
        await auth.clients.set_secret_hash_async("as", "FF")
        await auth.clients.set_allowed_ips_async("as", ["10.0.0.1"])
        got = await auth.clients.get_async("as")
        assert (got.secret_hash, got.allowed_ips) == ("ff", ["10.0.0.1"])
        regen = await auth.clients.regenerate_secret_async("as", plain_secret="three")
        assert regen.secret == "three"
        await auth.clients.delete_async("as")
        assert await auth.clients.get_async("as") is None
        with pytest.raises(HmacAuthError):
            await auth.clients.regenerate_secret_async("as")

    asyncio.run(flow())


def test_unreachable_redis_is_a_store_error():
    with pytest.raises(h.HmacStoreError):
        h.HmacHttpAuth(redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(h.HmacStoreError):
        h.HmacHttpAuth(redis_url="not a url")


def test_a_host_clock_stamps_records_and_checks_expiry(store, ns):
    now = [1_750_000_001_000]
    auth = make(store, ns, clock=lambda: now[0])
    made = auth.clients.create("c1", plain_secret="s", expires_at=1_750_000_002_500)
    assert (made.created_at, made.updated_at) == (1_750_000_001_000, 1_750_000_001_000)
    now[0] = 1_750_000_002_000
    auth.clients.set_allowed_ips("c1", None)
    got = auth.clients.get("c1")
    assert (got.created_at, got.updated_at) == (1_750_000_001_000, 1_750_000_002_000)
    msg = h.HmacMessageAuth(store=store, namespace=ns, clock=lambda: now[0])
    signed = msg.sign_message("c1", "hi")
    now[0] = 1_750_000_003_000  # past expires_at: the frozen clock, not the system's
    with pytest.raises(HmacAuthError) as info:
        msg.verify_message("c1", "hi", signed.signature)
    assert info.value.code == "CLIENT_EXPIRED"
    # A verification given no `now` reads the same clock: skew against 1_750_000_003_000.
    headers = h.build_signed_headers("GET", "/x", "", "c1", "s", timestamp=1_750_000_003_000, nonce="n1")
    with pytest.raises(HmacAuthError) as info:
        auth.verify("GET", "/x", {"x-client-id": "c1", "x-timestamp": headers["x-timestamp"], "x-nonce": "n1", "x-signature": headers["x-signature"]})
    assert info.value.code == "CLIENT_EXPIRED"  # past the skew check, then expired
    now[0] = float("nan")
    with pytest.raises(HmacArgumentError, match="^now must be a finite number$"):
        auth.clients.create("c2", plain_secret="s")
    with pytest.raises(HmacInputError, match="clock must be callable"):
        make(store, ns, clock=5)

"""TokenManager refresh records and authorization codes in the real Redis: two managers (as
two processes would) share one rotation state and one single-use code, only hashes are
stored, and a dead Redis is a typed error. Every key lives under the test's namespace."""

from __future__ import annotations

import os
import threading

import pytest

from authcore import jwt, pkce

REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

SECRET = b"shared-signing-secret-of-32-bytes!"
VERIFIER = "dBjftJeZ4CVP-mJ0kzjjxXkbjJvd7cuP2FV4JEx3ZRL"


def manager(namespace: str, url: str = REDIS_URL) -> jwt.TokenManager:
    return jwt.TokenManager("https://auth.example.com", SECRET, store=url, key_prefix=namespace)


def test_rotation_and_reuse_are_shared_between_managers(redis_client, namespace):
    a, b = manager(namespace), manager(namespace)
    first = a.create_token_pair("u1", "d1", "read")
    assert b.verify_refresh_token(first["refreshToken"])["valid"] is True
    second = b.refresh(first["refreshToken"])
    assert second["familyId"] == first["familyId"]
    with pytest.raises(jwt.RefreshTokenReusedError):
        a.refresh(first["refreshToken"])
    with pytest.raises(jwt.RefreshTokenRevokedError):
        b.refresh(second["refreshToken"])
    # Only hashes are stored, under the prefix, in the documented layout.
    keys = sorted(redis_client.scan_iter(match=f"{namespace}:*"))
    assert any(k.startswith(f"{namespace}:refresh:") for k in keys)
    assert f"{namespace}:refresh-family:{first['familyId']}" in keys
    assert f"{namespace}:refresh-user:u1" in keys
    for k in keys:
        if k.startswith(f"{namespace}:refresh:"):
            rec = redis_client.hgetall(k)
            assert set(rec) == {"fam", "user", "hash", "exp", "state"}
            assert rec["state"] == "revoked"
            assert first["refreshToken"] not in rec.values()
    third = a.create_token_pair("u1", "d1", "read")
    assert b.revoke_user("u1") == 1
    assert a.verify_refresh_token(third["refreshToken"])["error"] == "REFRESH_TOKEN_REVOKED"


def test_concurrent_refreshes_in_threads_have_one_winner(namespace):
    pair = manager(namespace).create_token_pair("u1", "d1", "read")
    managers = [manager(namespace) for _ in range(8)]
    barrier = threading.Barrier(len(managers))
    outcomes: list[str] = []

    def run(m: jwt.TokenManager) -> None:
        m.verify_refresh_token(pair["refreshToken"])  # connect first
        barrier.wait()
        try:
            m.refresh(pair["refreshToken"])
            outcomes.append("ok")
        except jwt.PyJWTError as e:
            outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=run, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) - {"ok"} <= {"RefreshTokenReusedError", "RefreshTokenRevokedError"}


def test_authorization_codes_are_single_use_across_servers(redis_client, namespace):
    a = pkce.AuthorizationServer(store=REDIS_URL, key_prefix=namespace)
    b = pkce.AuthorizationServer(store=REDIS_URL, key_prefix=namespace)
    code = a.create_code(
        client_id="c",
        user_id="u1",
        domain_id="d1",
        redirect_uri="https://app.example/cb",
        code_challenge=pkce.s256_challenge(VERIFIER),
        scope="read",
    )
    key = f"{namespace}:oauth-code:{pkce.hash_code(code)}"
    assert 0 < redis_client.pttl(key) <= 60_000
    assert code not in redis_client.hget(key, "data")
    got = b.exchange_code(code=code, client_id="c", redirect_uri="https://app.example/cb", code_verifier=VERIFIER)
    assert got == {"user_id": "u1", "domain_id": "d1", "scope": "read", "client_id": "c"}
    with pytest.raises(pkce.AuthorizationCodeReusedError):
        a.exchange_code(code=code, client_id="c", redirect_uri="https://app.example/cb", code_verifier=VERIFIER)
    assert a.purge_expired() == 0  # Redis expires codes itself
    with pytest.raises(TypeError):
        len(a)


def test_unreachable_store_is_a_typed_error_and_bad_urls_are_rejected():
    dead = jwt.TokenManager("https://auth.example.com", SECRET, store="redis://127.0.0.1:1/")
    with pytest.raises(jwt.PyJWTError) as info:
        dead.create_token_pair("u1", "d1", "read")
    assert info.value.code == "JWT_STORE_UNAVAILABLE"
    assert dead.verify_refresh_token("a.b.c")["valid"] is False
    srv = pkce.AuthorizationServer(store="redis://127.0.0.1:1/")
    with pytest.raises(pkce.OAuthError) as info2:
        srv.create_code(
            client_id="c",
            user_id="u",
            domain_id="d",
            redirect_uri="https://app.example/cb",
            code_challenge=pkce.s256_challenge(VERIFIER),
        )
    assert (info2.value.code, info2.value.status, info2.value.error) == ("OAUTH_STORE_UNAVAILABLE", 503, "server_error")
    with pytest.raises(ValueError):
        jwt.TokenManager("https://auth.example.com", SECRET, store="redis://[::1")


@pytest.mark.parametrize("shared", [False, True])
def test_code_grant_issues_tokens_and_a_replay_revokes_them(namespace, shared):
    store = REDIS_URL if shared else None
    tm = jwt.TokenManager("https://auth.example.com", SECRET, store=store, key_prefix=namespace)
    a = pkce.AuthorizationServer(store=store, key_prefix=namespace)
    b = pkce.AuthorizationServer(store=store, key_prefix=namespace) if shared else a
    code = a.create_code(
        client_id="c",
        user_id="u1",
        domain_id="d1",
        redirect_uri="https://app.example/cb",
        code_challenge=pkce.s256_challenge(VERIFIER),
        scope="read",
    )
    ex = {"code": code, "client_id": "c", "redirect_uri": "https://app.example/cb", "code_verifier": VERIFIER}
    pair = a.exchange_code_for_tokens(**ex, token_manager=tm)
    assert tm.verify_access_token(pair["accessToken"])["userId"] == "u1"
    assert tm.verify_refresh_token(pair["refreshToken"])["valid"] is True
    with pytest.raises(pkce.AuthorizationCodeReusedError):
        b.exchange_code_for_tokens(**ex, token_manager=tm)
    assert tm.verify_refresh_token(pair["refreshToken"])["error"] == "REFRESH_TOKEN_REVOKED"

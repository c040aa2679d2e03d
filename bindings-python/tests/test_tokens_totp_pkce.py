"""authcore.tokens, authcore.totp and authcore.pkce: typed rejections with codes."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

import authcore.pkce as pkce
import authcore.tokens as tokens
import authcore.totp as totp

# --- API tokens ------------------------------------------------------------------------------


def _record(token: str, prefix: str, rid: str, **extra):
    r = {
        "id": rid,
        "serviceAccountId": f"sa-{rid}",
        "name": f"token {rid}",
        "tokenHash": tokens.hash_api_token(token),
        "prefix": prefix,
        "createdAt": "2026-01-01T00:00:00Z",
        "revoked": False,
        "domainId": "d1",
        "orgId": "o1",
        "scopes": ["read"],
    }
    r.update(extra)
    return r


def test_generated_token_shape_and_hash():
    g = tokens.generate_api_token()
    assert g.token.startswith("epic_live_") and len(g.token) == len("epic_live_") + 32
    assert g.prefix == g.token[: len("epic_live_") + 8]
    assert g.token_hash == hashlib.sha256(g.token.encode()).hexdigest()
    assert tokens.api_token_lookup_prefix(g.token) == g.prefix
    assert tokens.api_token_lookup_prefix(g.token[:-1]) is None
    with pytest.warns(DeprecationWarning, match="use api_token_lookup_prefix"):
        assert tokens.lookup_prefix(g.token) == g.prefix  # the deprecated alias
    assert len({tokens.generate_api_token().token for _ in range(200)}) == 200
    with pytest.raises(tokens.ApiTokenError) as info:
        tokens.generate_api_token("bad prefix!")
    assert info.value.code == "API_TOKEN_INVALID_PREFIX"


def test_prefix_collisions_still_authenticate():
    """node-auth §6: a prefix collision made the second key fail; every candidate counts."""
    a, b = tokens.generate_api_token(), tokens.generate_api_token()
    shared = a.prefix
    store = tokens.ApiTokenStore()
    store.insert(_record(a.token, shared, "1"))
    b_token = shared + b.token[len(shared) :]
    store.insert(_record(b_token, shared, "2"))
    assert len(store.find_by_prefix(shared)) == 2
    data = store.authenticate(b_token, now=1_800_000_000)
    assert data["serviceAccountId"] == "sa-2" and data["type"] == "api_token"
    assert [r.get("lastUsedAt") for r in store.all()] == [None, "2027-01-15T08:00:00Z"]
    assert store.authenticate(a.token)["serviceAccountId"] == "sa-1"


@pytest.mark.parametrize(
    "record_extra,presented,cls,code",
    [
        ({"revoked": True}, None, tokens.ApiKeyRevokedError, "API_KEY_REVOKED"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, None, tokens.ApiKeyExpiredError, "API_KEY_EXPIRED"),
        ({"expiresAt": "not a date"}, None, tokens.ApiKeyExpiredError, "API_KEY_EXPIRED"),
        ({}, "wrong", tokens.ApiKeyInvalidError, "API_KEY_INVALID"),
        ({}, "", tokens.ApiKeyMissingError, "API_KEY_MISSING"),
    ],
)
def test_rejections_are_typed(record_extra, presented, cls, code):
    g = tokens.generate_api_token()
    rec = _record(g.token, g.prefix, "1", **record_extra)
    token = g.token if presented is None else (presented and g.prefix + "x" * 24)
    with pytest.raises(cls) as info:
        tokens.authenticate_api_token(token, [rec])
    assert info.value.code == code and info.value.status == 401


def test_node_api_keys_and_legacy_bcrypt_hashes():
    import authcore.password as pw

    k = tokens.generate_node_api_key()
    assert k.raw_key.startswith("ak_") and len(k.raw_key) == 51 and k.key_prefix == k.raw_key[:11]
    assert tokens.node_api_key_prefix(k.raw_key) == k.key_prefix
    assert tokens.node_api_key_prefix("ak_xyz") is None
    legacy = pw.bcrypt_hash(k.raw_key, rounds=4)
    hashes = [tokens.hash_api_token("other"), legacy]
    assert tokens.match_token_hash(k.raw_key, hashes) == 1
    assert tokens.match_token_hash("ak_" + "0" * 48, hashes) is None
    assert tokens.match_token_hash(k.raw_key, []) is None
    with pytest.raises(tokens.ApiTokenError) as info:
        tokens.match_token_hash(k.raw_key, ["plaintext-secret"])
    assert info.value.code == "API_TOKEN_STORED_HASH_INVALID"


def test_session_tokens_blake3():
    assert tokens.hash_blake3(b"") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    t = tokens.generate_session_token()
    assert len(t) == 43
    sid = tokens.hash_session_token(t)
    assert sid == tokens.hash_blake3(t) and tokens.verify_session_token(t, sid)
    assert not tokens.verify_session_token(t + "x", sid)


# --- TOTP ----------------------------------------------------------------------------------

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_replay_is_rejected_within_the_step():
    now = 1_700_000_015
    code = totp.generate(SECRET, now)
    step = totp.verify(code, SECRET, now=now)
    assert step == now // 30
    with pytest.raises(totp.TotpReplayedError) as info:
        totp.verify(code, SECRET, now=now + 5, last_used_step=step)
    assert info.value.code == "TOTP_REPLAYED" and info.value.status == 401 and info.value.step == step
    assert totp.check(code, SECRET, now=now, last_used_step=step) is False


def test_drift_window_and_wrong_codes():
    now = 1_700_000_015
    previous = totp.generate(SECRET, now - 30)
    assert totp.verify(previous, SECRET, now=now, window=1) == now // 30 - 1
    with pytest.raises(totp.TotpInvalidCodeError):
        totp.verify(previous, SECRET, now=now, window=0)
    with pytest.raises(totp.TotpInvalidCodeError) as info:
        totp.verify(totp.generate(SECRET, now - 90), SECRET, now=now)
    assert info.value.code == "TOTP_INVALID_CODE"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", " 123456"])
def test_malformed_codes_are_a_clean_400(code):
    with pytest.raises(totp.TotpMalformedCodeError) as info:
        totp.verify(code, SECRET, now=1_700_000_015)
    assert info.value.status == 400 and isinstance(info.value, ValueError)


def test_bad_secret_and_pyotp_style_object():
    with pytest.raises(totp.TotpInvalidSecretError):
        totp.verify("123456", "not base32!", now=0)
    with pytest.raises(totp.TotpInvalidSecretError) as info:
        totp.generate("JBSWY3DP", 0)
    assert info.value.code == "TOTP_SECRET_TOO_SHORT"
    g = totp.generate_secret_for("alice@example.com")
    assert len(g.secret) == 32 and g.otpauth_url.startswith("otpauth://totp/awesome-node-auth:alice%40example.com?secret=")
    t = totp.TOTP(g.secret)
    assert t.verify(t.now())
    assert t.verify(t.at(time.time() - 30), valid_window=1)
    assert t.provisioning_uri("bob", "App") == totp.otpauth_url("App", "bob", g.secret)
    step = t.verify_step(t.now(), None)
    with pytest.raises(totp.TotpReplayedError):
        t.verify_step(t.now(), step)


# --- PKCE / authorization codes ------------------------------------------------------------

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
NOW_MS = 1_700_000_000_000


def _server_and_code(**kw):
    server = pkce.AuthorizationServer(**kw)
    code = server.create_code(
        client_id="mcp-client",
        user_id="u1",
        domain_id="d1",
        redirect_uri="https://app.example/cb",
        code_challenge=pkce.s256_challenge(VERIFIER),
        scope="read",
        now_ms=NOW_MS,
    )
    return server, code


def _exchange(server, c, **over):
    args = {"code": c, "client_id": "mcp-client", "redirect_uri": "https://app.example/cb", "code_verifier": VERIFIER, "now_ms": NOW_MS + 1000}
    args.update(over)
    return server.exchange_code(**args)


def test_s256_matches_rfc_and_stdlib():
    assert pkce.s256_challenge(VERIFIER) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    v = pkce.generate_code_verifier()
    expect = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
    assert pkce.s256_challenge(v) == expect and pkce.verify_pkce(v, expect)


def test_wrong_verifier_is_typed():
    with pytest.raises(pkce.PkceVerificationError) as info:
        pkce.verify_pkce("x" * 43, pkce.s256_challenge(VERIFIER))
    assert info.value.code == "PKCE_VERIFICATION_FAILED" and info.value.error == "invalid_grant"
    with pytest.raises(pkce.InvalidRequestError) as info:
        pkce.verify_pkce("short", pkce.s256_challenge(VERIFIER))
    assert info.value.code == "PKCE_INVALID_VERIFIER" and info.value.status == 400


def test_code_exchange_is_single_use_and_bound():
    server, code = _server_and_code()
    assert server.stored_code_hashes() == [pkce.hash_code(code)]
    assert _exchange(server, code) == {"user_id": "u1", "domain_id": "d1", "scope": "read", "client_id": "mcp-client"}
    with pytest.raises(pkce.AuthorizationCodeReusedError) as info:
        _exchange(server, code)
    assert info.value.code == "AUTH_CODE_REUSED"


@pytest.mark.parametrize(
    "over,code",
    [
        ({"client_id": "other"}, "AUTH_CODE_CLIENT_MISMATCH"),
        ({"redirect_uri": "https://evil.example/cb"}, "AUTH_CODE_REDIRECT_URI_MISMATCH"),
        ({"code_verifier": "y" * 43}, "PKCE_VERIFICATION_FAILED"),
        ({"now_ms": NOW_MS + 60_000}, "AUTH_CODE_EXPIRED"),
        ({"code": "unknown-code"}, "AUTH_CODE_INVALID"),
    ],
)
def test_mismatched_exchange_burns_the_code(over, code):
    server, c = _server_and_code()
    with pytest.raises(pkce.InvalidGrantError) as info:
        _exchange(server, c, **over)
    assert info.value.code == code and info.value.error == "invalid_grant"
    result = server.exchange_code_result(code=c, client_id="mcp-client", redirect_uri="https://app.example/cb", code_verifier=VERIFIER, now_ms=NOW_MS)
    if "code" in over:
        assert result["success"] is True, "an unknown code does not burn the real one"
    else:
        # The failed attempt consumed the code: the right parameters now meet a reused code.
        assert result == {"success": False, "error": "invalid_grant", "errorDescription": "authorization code already used"}


def test_plain_method_refused_by_default_and_metadata():
    server = pkce.AuthorizationServer()
    with pytest.raises(pkce.InvalidRequestError) as info:
        server.create_code(client_id="c", user_id="u", domain_id="d", redirect_uri="https://a/cb", code_challenge=VERIFIER, code_challenge_method="plain")
    assert info.value.code == "PKCE_PLAIN_NOT_ALLOWED"
    md = pkce.authorization_server_metadata("https://auth.example", ["read"])
    assert md["issuer"] == "https://auth.example" and md["code_challenge_methods_supported"] == ["S256"]
    assert md["token_endpoint"] == "https://auth.example/oauth/token"
    with pytest.raises(pkce.OAuthError) as info:
        pkce.authorization_server_metadata("http://evil.example")
    assert info.value.code == "OAUTH_INVALID_ISSUER" and info.value.status == 500

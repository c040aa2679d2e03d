"""The pure functions of authcore.hmac: values from the spec's Appendix, JavaScript
semantics of Python inputs, and bad input (typed errors, never a crash)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac as std_hmac
import math
import pickle

import pytest

import authcore.hmac as h
from authcore.errors import (
    HmacArgumentError,
    HmacAuthError,
    HmacError,
    HmacInputError,
)

KEY_A = "eed3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04"


def test_hash_client_secret_appendix():
    assert h.hash_client_secret("secret_a") == KEY_A
    assert h.hash_client_secret("secret_a", "abc") == "ba6fab075946aa6dbf432a0062bfb1f1be67ad1730fe9acf4f11043bcb9cf38e"
    assert h.hash_client_secret("msg_secret") == "ec626df950a47c92e54e5267b4ce09700992e11eb58cbd301d5f8bd3efa9bc5c"
    # An empty token means plain SHA-256; "0" is a real token.
    assert h.hash_client_secret("x", "") == hashlib.sha256(b"x").hexdigest()
    assert h.hash_client_secret("0", "0") == std_hmac.new(b"0", b"0", hashlib.sha256).hexdigest()


def test_hash_body_str_bytes_and_lossy_utf8():
    assert h.hash_body("") == h.hash_body(b"") == h.hash_body(None) == hashlib.sha256(b"").hexdigest()
    assert h.hash_body('{"a":1}') == h.hash_body(b'{"a":1}') == h.hash_body(bytearray(b'{"a":1}'))
    assert h.hash_body(memoryview(b"abc")) == hashlib.sha256(b"abc").hexdigest()
    # Invalid UTF-8 is hashed like Buffer#toString(): U+FFFD per bad sequence.
    assert h.hash_body(b"\xff") == hashlib.sha256("\ufffd".encode()).hexdigest()
    # A lone surrogate in a str is U+FFFD too (V8's UTF-8 encoder).
    assert h.hash_body("a\ud800b") == hashlib.sha256("a\ufffdb".encode()).hexdigest()
    # A surrogate pair spelled as two code points is the astral character.
    assert h.hash_body("\ud83d\udd10") == h.hash_body("🔐")


def test_build_signing_payload_and_sign_request_appendix():
    payload = h.build_signing_payload("post", "/v1/messages?x=1", 1700000000000, "nonce_1", '{"hello":"world"}')
    assert payload == (
        "POST\n/v1/messages?x=1\n1700000000000\nnonce_1\n"
        "93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588"
    )
    sig = h.sign_request("post", "/v1/messages?x=1", 1700000000000, "nonce_1", '{"hello":"world"}', KEY_A)
    assert sig == "9fdc401b7eb309409286a40e661c1f672d4c6de470713241ac8b9d1993957f63"
    assert sig == std_hmac.new(KEY_A.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert (
        h.sign_request("GET", "https://api.example.com/v1/ping?b=2&a=1#frag", 1000, "nonce_1", "", KEY_A)
        == "b3c2d51a3a8c7e4ec514fe464df960ebe058a28bf7650705b06a2b0f86e81eb3"
    )
    assert (
        h.sign_request("GET", "", 1700000000000, "n", "", KEY_A)
        == "6a24bb4fbf4f8c9e2eff3ee128eadc0810c6c547d79eeaf127e6312913accd15"
    )
    assert (
        h.sign_request("GET", "/a b/é?q=a b", 1700000000000, "n", "", KEY_A)
        == "25c859f9500b4cd8ab2ec0aaaef57242817fdc2769077d3fddf5055d3c4948b4"
    )


def test_verify_request_signature():
    sig = "9fdc401b7eb309409286a40e661c1f672d4c6de470713241ac8b9d1993957f63"
    args = ("POST", "/v1/messages?x=1", 1700000000000, "nonce_1", b'{"hello":"world"}', KEY_A)
    assert h.verify_request_signature(*args, sig)
    assert h.verify_request_signature(*args, sig.upper())
    assert not h.verify_request_signature(*args, sig[:-1] + "0")
    assert not h.verify_request_signature(*args, "")
    with pytest.raises(HmacInputError):
        h.verify_request_signature("GET", "//[", 1, "n", "", KEY_A, sig)


def test_timestamps_render_like_javascript():
    base = "GET\n/x\n{}\nn\n" + hashlib.sha256(b"").hexdigest()
    assert h.build_signing_payload("GET", "/x", 1e21, "n") == base.format("1e+21")
    assert h.build_signing_payload("GET", "/x", 12.5, "n") == base.format("12.5")
    assert h.build_signing_payload("GET", "/x", 1700000000000.0, "n") == base.format("1700000000000")
    assert h.build_signing_payload("GET", "/x", -1, "n") == base.format("-1")
    # ints beyond 2**53 are read as the nearest double, like a JS Number
    assert h.build_signing_payload("GET", "/x", 2**53 + 1, "n") == base.format("9007199254740992")


def test_safe_equal_hex_quirks():
    assert h.safe_equal_hex(KEY_A, KEY_A.upper())
    assert h.safe_equal_hex("zz", "zz")
    assert h.safe_equal_hex("", "")
    assert not h.safe_equal_hex("ab", "abc")
    assert not h.safe_equal_hex(KEY_A, KEY_A[:-1] + "g")


def test_normalize_path_table():
    table = {
        "": "/",
        "api": "/api",
        "//evil.com/x": "/x",
        "/a/../b": "/b",
        "/a b": "/a%20b",
        "/é": "/%C3%A9",
        "/p?": "/p",
        "?x=1": "/?x=1",
        "#frag": "/",
        "\\a\\b": "/a/b",
        "/a\tb": "/ab",
        "%7E": "/%7E",
        "foo:bar": "bar",
        "/\ud800": "/%EF%BF%BD",  # a lone surrogate is U+FFFD, like V8
    }
    for raw, want in table.items():
        assert h.normalize_path(raw) == want, raw
    for bad in ("//[", "//%", "//a:99999/x"):
        with pytest.raises(HmacInputError) as info:
            h.normalize_path(bad)
        assert info.value.code == "INVALID_INPUT"
        assert isinstance(info.value, TypeError)


def test_message_track_appendix():
    signed = h.sign_message("app_msg", {"z": 3, "a": 1, "nested": {"y": True, "x": "ok"}}, "msg_secret")
    assert signed.client_id == "app_msg"
    assert signed.message_hash == "cbcaf201a7d2327c31e87bc5ae5727a3b50aabb2132e71a9fa16827dd071d669"
    assert signed.signature == "cf40c33faea919d865fa6ca7700a0a39fe8c735725d7ab144ccf99b29fd637ab"
    assert signed.to_dict() == {
        "clientId": "app_msg",
        "messageHash": signed.message_hash,
        "signature": signed.signature,
    }
    assert h.verify_message("app_msg", {"a": 1, "nested": {"x": "ok", "y": True}, "z": 3}, "msg_secret", signed.signature)
    assert not h.verify_message("app_msg", {"a": 1, "nested": {"x": "ok", "y": False}, "z": 3}, "msg_secret", signed.signature)
    s = h.sign_message("  app_msg ", "hello", "msg_secret")
    assert (s.client_id, s.signature) == ("app_msg", "dfe5e19fb5c475c2eb79e100ab79037ecf3ff2b48982116c373f4602f34eead5")
    t = h.sign_message("app_msg", {"B": 1, "a": 2, "_c": 3, "10": 4, "2": 5}, "msg_secret", hash_token="tok")
    assert t.signature == "10a48b3f800e6eb9eee8b728503c6aa46412c5b0766d0a7cce649ed94900bf8e"
    hashed = h.sign_message("app_msg", {"b": 1, "a": 2}, h.hash_client_secret("msg_secret"), secret_is_hashed=True)
    assert hashed.signature == "202a9a1964f82ce5ebc33a93438902ace80a2a855323f4f928db26ce03cf5a30"
    assert h.build_message_signing_payload(" app_msg ", "abc") == "app_msg\nabc"


def test_message_from_python_types_follows_javascript():
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone.utc)
    msg = {"d": when, "n": 1.5e21, "s": "é🔐\u2028"}
    assert h.message_canonical(msg) == '{"d":"2024-01-02T03:04:05.006Z","n":1.5e+21,"s":"é🔐\u2028"}'
    signed = h.sign_message("c", msg, "s")
    assert signed.message_hash == "1419c63e09be818df3d64adbef7242b4ab6217ba1095ec8342dedcccf836a200"
    assert signed.signature == "b218013bee7b71084d7f3f0320aa20a71b7148c9431ece89211d1f3ed1253072"
    # Aware datetimes are converted to UTC; naive ones are taken as UTC.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert h.message_canonical([dt.datetime(2024, 1, 2, 4, 4, 5, 6999, tzinfo=paris)]) == '["2024-01-02T03:04:05.006Z"]'
    assert h.message_canonical([dt.datetime(2024, 1, 2, 3, 4, 5)]) == '["2024-01-02T03:04:05.000Z"]'
    # Tuples are arrays, NaN/inf are null, huge ints are doubles, -0 is 0.
    assert h.message_canonical((1, math.nan, math.inf, -0.0, 2**64)) == "[1,null,null,0,18446744073709552000]"
    assert h.message_canonical([10**400]) == "[null]"
    # Top level: strings raw, None empty, numbers and booleans as String(x).
    assert h.message_canonical("hello") == "hello"
    assert h.message_canonical(None) == ""
    assert h.message_canonical(42) == "42"
    assert h.message_canonical(math.nan) == "NaN"
    assert h.message_canonical(False) == "false"
    # bytes: a top-level Buffer is its text, nested it is Buffer#toJSON.
    assert h.message_canonical(b"hi \xff") == "hi \ufffd"
    assert h.message_canonical({"b": b"\x01\x02"}) == '{"b":{"type":"Buffer","data":[1,2]}}'
    # Keys are String(key); integer-like keys come first; __proto__ vanishes.
    assert h.message_canonical({1: "a", "b": 2, None: 3, 2.5: 0, "__proto__": 4}) == '{"1":"a","2.5":0,"b":2,"null":3}'
    # Lone surrogates stay UTF-16 units and are escaped like JSON.stringify.
    assert h.message_canonical(["\ud800", "\udfff\ud83d\udd10"]) == '["\\ud800","\\udfff🔐"]'


def test_message_verify_errors():
    with pytest.raises(HmacArgumentError) as info:
        h.sign_message("   ", {}, "s")
    assert str(info.value) == "clientId cannot be empty"
    assert isinstance(info.value, ValueError)
    with pytest.raises(HmacArgumentError, match="^secret cannot be empty$"):
        h.sign_message("c", {}, " ")
    with pytest.raises(HmacInputError):
        h.verify_message("c", {}, "s", None)


def test_build_signed_headers_matches_signed_fetch_vector():
    headers = h.build_signed_headers(
        "POST", "https://api.example.com/v1/ping", '{"ok":true}', "app_a", "secret_a", timestamp=1000, nonce="nonce_1"
    )
    assert headers == {
        "x-client-id": "app_a",
        "x-timestamp": "1000",
        "x-nonce": "nonce_1",
        "x-signature": "2d05753ec145808095b935b492de665d9737c858df14b84757b9f62acbd72d49",
    }
    fresh = h.build_signed_headers("GET", "/x", None, "c", KEY_A, secret_is_hashed=True)
    assert len(fresh["x-nonce"]) == 32 and int(fresh["x-nonce"], 16) >= 0
    assert fresh["x-nonce"] != h.build_signed_headers("GET", "/x", None, "c", KEY_A, secret_is_hashed=True)["x-nonce"]
    assert len(h.generate_nonce()) == 32


def test_normalize_allowed_ips_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="normalize_allowed_ip_rules"):
        assert h.normalize_allowed_ips([" 10.0.0.1/032 "]) == ["10.0.0.1/32"]
    assert "normalize_allowed_ip_rules" in h.__all__ and "normalize_allowed_ips" in h.__all__


def test_ip_helpers_and_record_parsing():
    assert h.is_client_ip_allowed("::ffff:195.7.8.44", ["195.7.8.0/24"])
    assert not h.is_client_ip_allowed("10.1.2.3", ["::/0"])
    assert h.normalize_allowed_ip_rules([" 195.7.8.9/024 ", "10.0.0.1", "10.0.0.1"]) == ["195.7.8.9/24", "10.0.0.1"]
    assert h.normalize_allowed_ip_rules(None) == []
    with pytest.raises(HmacArgumentError, match="Invalid allowedIps entry 'nope'"):
        h.normalize_allowed_ip_rules(["nope"])
    with pytest.raises(HmacArgumentError, match="^allowedIps entries must be strings$"):
        h.normalize_allowed_ip_rules([42])
    with pytest.raises(HmacArgumentError, match="^allowedIps must be an array of IP/CIDR strings$"):
        h.normalize_allowed_ip_rules("10.0.0.1")
    legacy = h.parse_stored_client_record("ABC")
    assert legacy == {"secretHash": "ABC", "createdAt": 0, "updatedAt": 0, "expiresAt": None, "allowedIps": []}


@pytest.mark.parametrize(
    "call",
    [
        lambda: h.hash_client_secret(123),
        lambda: h.hash_client_secret("s", 5),
        lambda: h.hash_body(12),
        lambda: h.hash_body(["x"]),
        lambda: h.sign_request(None, "/", 1, "n", "", "k"),
        lambda: h.sign_request("GET", b"/", 1, "n", "", "k"),
        lambda: h.sign_request("GET", "/", "1", "n", "", "k"),
        lambda: h.sign_request("GET", "/", True, "n", "", "k"),
        lambda: h.sign_request("GET", "/", math.nan, "n", "", "k"),
        lambda: h.sign_request("GET", "/", math.inf, "n", "", "k"),
        lambda: h.sign_request("GET", "/", 1, None, "", "k"),
        lambda: h.build_signing_payload("GET", "/", -math.inf, "n"),
        lambda: h.safe_equal_hex("a", None),
        lambda: h.normalize_path(7),
        lambda: h.message_canonical({"s": {1, 2}}),
        lambda: h.message_canonical(object()),
        lambda: h.message_canonical({(1, 2): "tuple key"}),
        lambda: h.sign_message(5, {}, "s"),
    ],
)
def test_wrong_types_are_typed_errors(call):
    with pytest.raises(HmacInputError) as info:
        call()
    assert info.value.code == "INVALID_INPUT"
    assert isinstance(info.value, TypeError)


def test_deep_and_circular_messages_are_errors_not_crashes():
    deep: list = []
    cur = deep
    for _ in range(10_000):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    with pytest.raises(HmacInputError, match="nesting"):
        h.message_canonical(deep)
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(HmacInputError):
        h.sign_message("c", loop, "s")


def test_huge_body_is_a_typed_error():
    huge = bytes(h.MAX_BODY_BYTES + 1)
    with pytest.raises(HmacInputError, match="body too large"):
        h.hash_body(huge)
    with pytest.raises(HmacInputError, match="body too large"):
        h.sign_request("POST", "/", 1, "n", huge, "k")
    del huge


def test_large_body_hash_matches_hashlib():
    body = bytes(range(256)) * 4096  # 1 MiB, hashed with the GIL released
    text_like = body.decode("latin-1").encode("utf-8")
    assert h.hash_body(text_like) == hashlib.sha256(text_like).hexdigest()


def test_errors_carry_code_status_and_pickle():
    err = HmacAuthError("BAD_SIGNATURE", "Invalid HMAC signature")
    assert (err.code, err.status, err.message, str(err)) == ("BAD_SIGNATURE", 401, "Invalid HMAC signature", "Invalid HMAC signature")
    assert isinstance(err, HmacError) and isinstance(err, Exception)
    again = pickle.loads(pickle.dumps(err))
    assert (again.code, again.status, again.message) == (err.code, err.status, err.message)
    assert HmacAuthError("CLIENT_NOT_FOUND", "x", 404).status == 404
    assert set(h.HMAC_ERROR_CODES) == {
        "MISSING_CLIENT_ID", "MISSING_SIGNATURE", "MISSING_TIMESTAMP", "MISSING_NONCE",
        "INVALID_TIMESTAMP", "TIMESTAMP_SKEW", "UNKNOWN_CLIENT", "CLIENT_EXPIRED",
        "MISSING_CLIENT_IP", "CLIENT_IP_NOT_ALLOWED", "CLIENT_NOT_FOUND", "BAD_SIGNATURE",
        "REPLAYED_NONCE", "INTERNAL_ERROR",
    }


def test_constants():
    assert h.DEFAULT_NAMESPACE == "hmacauth"
    assert h.DEFAULT_MAX_SKEW_MS == 300000
    assert h.DEFAULT_SECRET_LENGTH_BYTES == 32
    assert h.DEFAULT_BACKUP_TTL_SECONDS == 600
    assert h.MAX_BODY_BYTES == (1 << 29) - 24

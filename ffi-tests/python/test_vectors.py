"""The Python runner of the shared vectors (ffi-tests/README.md).

Every vector file of ``ffi-tests/vectors/`` is claimed here by a family (its ops, through
the public API of the module that owns the capability) or listed in ``NOT_FOR_PYTHON``
with the reason; a file that is neither, or an unknown op, fails.

- ``hmac-*.json``, ``naskot/*.json``: ``authcore.hmac``;
- ``password-*``, ``jwt-*``, ``totp-*``, ``pkce-*``, ``policy``: ``authcore.password``,
  ``authcore.jwt``, ``authcore.totp``, ``authcore.pkce``, ``authcore.policy`` (errors compared
  by ``code``, and ``status`` when the vector has one);
- ``realtime.json``: ``authcore.realtime`` (fuz_app's SSE auth guard);
- ``python-json-dumps.json``: ``authcore.jwt.encode`` signs exactly CPython's
  ``json.dumps(separators=(",", ":"))`` text (what PyJWT signs) for every value;
- ``differential/*.json`` (recorded from the originals): each replayed by the modules of this
  folder named in ``REPLAYED_BY`` (collected with it by ``pytest ffi-tests/python``).

A vector folder other than ``naskot/`` and ``differential/`` fails until it is claimed here.
"""

from __future__ import annotations

import base64
import json
import pathlib
import struct
from collections import Counter

import pytest

import authcore.hmac as h
import authcore.jwt as jwt
import authcore.password as pw
import authcore.pkce as pkce
import authcore.policy as policy
import authcore.totp as totp
from authcore import realtime as rt
from authcore.errors import HmacAuthError, HmacError

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"


def _doc(name: str):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- HMAC

# ECMAScript WhiteSpace + LineTerminator (what String#trim strips).
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _body(inp):
    if "bodyHex" in inp:
        return bytes.fromhex(inp["bodyHex"])
    return inp.get("body", "")


def _header(headers, name):
    """The original's getHeader: first case-insensitive match, arrays give element 0."""
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list):
                return value[0] if value else None
            return value
    return None


def _verify_with_record(inp):
    auth = h.HmacHttpAuth()  # a fresh embedded memory store per case
    client_id = _header(inp["headers"], "x-client-id")
    if inp.get("record") is not None and isinstance(client_id, str):
        auth.store.hset(f"{auth.namespace}:clients", client_id.strip(JS_WHITESPACE), inp["record"])
    verified = auth.verify(
        inp["method"],
        inp["path"],
        inp["headers"],
        _body(inp),
        now=inp["now"],
        max_skew_ms=inp.get("maxSkewMs"),
        ip_candidates=inp.get("ipCandidates", []),
    )
    return verified.to_dict()


def _run_hmac(op, inp):
    if op == "hash_client_secret":
        return h.hash_client_secret(inp["secret"], inp.get("secretToken"))
    if op == "hash_body":
        return h.hash_body(_body(inp))
    if op == "build_signing_payload":
        return h.build_signing_payload(inp["method"], inp["path"], inp["timestamp"], inp["nonce"], _body(inp))
    if op == "sign_request":
        return h.sign_request(inp["method"], inp["path"], inp["timestamp"], inp["nonce"], _body(inp), inp["secret"])
    if op == "normalize_path":
        return h.normalize_path(inp["path"])
    if op == "safe_equal_hex":
        return h.safe_equal_hex(inp["a"], inp["b"])
    if op == "message_canonical":
        return h.message_canonical(inp["message"])
    if op == "sign_message":
        return h.sign_message(
            inp["clientId"],
            inp["message"],
            inp["secret"],
            secret_is_hashed=inp.get("secretIsHashed", False),
            hash_token=inp.get("hashToken"),
        ).to_dict()
    if op == "verify_message":
        return h.verify_message(
            inp["clientId"],
            inp["message"],
            inp["secret"],
            inp["signature"],
            secret_is_hashed=inp.get("secretIsHashed", False),
            hash_token=inp.get("hashToken"),
        )
    if op == "ip_allowed":
        return h.is_client_ip_allowed(inp["ip"], inp["rules"])
    if op == "normalize_allowed_ips":
        return h.normalize_allowed_ip_rules(inp["rules"])
    if op == "parse_record":
        return h.parse_stored_client_record(inp["raw"])
    if op == "verify_with_record":
        return _verify_with_record(inp)
    pytest.fail(f"unknown op {op!r}: the Python runner must implement every op")


def _hmac_case(case):
    expect = case["expect"]
    if "ok" in expect:
        got = _run_hmac(case["op"], case["input"])
        assert got == expect["ok"]
        if isinstance(expect["ok"], (int, float)) and not isinstance(expect["ok"], bool):
            assert type(got) is type(expect["ok"])
    elif "error" in expect:
        with pytest.raises(HmacError) as info:
            _run_hmac(case["op"], case["input"])
        assert info.value.code == expect["error"], str(info.value)
        if "status" in expect:
            # Auth errors carry their own status; every other error is what a
            # middleware answers: 500.
            assert info.value.status == expect["status"]
            assert isinstance(info.value, HmacAuthError) == (expect["error"] in h.HMAC_ERROR_CODES)
    else:
        pytest.fail(f"case {case['id']} has neither ok nor error")


# ---------------------------------------------------------------------------- auth primitives

ERRORS = (pw.Argon2Error, pw.InvalidHashError, pw.UnsupportedParametersError, jwt.PyJWTError, totp.TotpError, pkce.OAuthError, policy.PolicyError)


def _list(v):
    if v is None:
        return None
    return [v] if isinstance(v, str) else list(v)


def _argon2_verify(i):
    try:
        return pw.PasswordHasher().verify(i["hash"], i["password"])
    except pw.VerifyMismatchError:
        return False


def _key_set(i, alg, key, node_compat):
    ks = jwt.KeySet()
    ks.add(alg, key, accept=i.get("algorithms"), node_compat=node_compat)
    return ks


def _verify(ks, i):
    return ks.verify(
        i["token"],
        now=i.get("now", 0),
        leeway=i.get("leeway", 0),
        issuer=_list(i.get("issuer")),
        audience=_list(i.get("audience")),
        token_use=i.get("tokenUse"),
    )


def _check_permission(i):
    engine = policy.PolicyEngine()
    for d in i["documents"]:
        engine.add_document(d)
    for p in i["packages"]:
        engine.sync_package(p["packageId"], p["tables"], p.get("customActions", ()), p.get("extensibleTables", ()))
    return engine.check_permission(i["userId"], i["resource"], i.get("action"), roles=i["roles"], groups=i["groups"])


def _run_primitive(op, i):
    if op == "bcrypt_verify":
        return pw.bcrypt_verify(i["password"], i["hash"])
    if op == "bcrypt_hash_with_salt":
        return pw.bcrypt_hash_with_salt(i["password"], i["salt"])
    if op == "bcrypt_hash_prefix":
        h = pw.bcrypt_hash(i["password"], i["cost"])
        assert pw.bcrypt_verify(i["password"], h)
        return h[:7]
    if op == "argon2_verify":
        return _argon2_verify(i)
    if op == "argon2_needs_rehash":
        return pw.PasswordHasher(time_cost=i["t"], memory_cost=i["m"], parallelism=i["p"]).check_needs_rehash(i["hash"])
    if op == "jwt_sign":
        return jwt.sign_json(i["payloadJson"], i["secret"], i["alg"], kid=i.get("kid"))
    if op == "jwt_verify":
        return _verify(_key_set(i, "HS256", i["secret"], True), i)
    if op == "jwt_verify_pem":
        return _verify(_key_set(i, i["alg"], i["publicKeyPem"], False), i)
    if op == "jwt_sign_pem":
        return jwt.sign_json(i["payloadJson"], i["privateKeyPem"], i["alg"], kid=i.get("kid"))
    if op == "jwks_from_pem":
        return jwt.jwks_from_pem(i["alg"], i["publicKeyPem"], i["kid"])
    if op == "totp_generate_raw":
        code = totp.generate_raw(
            bytes.fromhex(i["secretHex"]), i["time"], algorithm=i["algorithm"], digits=i["digits"], period=i["period"]
        )
        step = totp.verify_raw(
            code, bytes.fromhex(i["secretHex"]), now=i["time"], algorithm=i["algorithm"], digits=i["digits"], period=i["period"]
        )
        assert step == i["time"] // i["period"]
        return code
    if op == "totp_generate":
        return totp.generate(i["secret"], i["time"])
    if op == "totp_verify":
        return totp.verify(i["code"], i["secret"], now=i["now"], window=i["window"], last_used_step=i.get("lastUsedStep"))
    if op == "totp_otpauth_url":
        return totp.otpauth_url(i["issuer"], i["account"], i["secret"])
    if op == "pkce_s256_challenge":
        return pkce.s256_challenge(i["verifier"])
    if op == "pkce_verify":
        return pkce.verify_pkce(i["verifier"], i["challenge"], i["method"])
    if op == "policy_check":
        return policy.evaluate_request(i["request"])
    if op == "policy_crud_actions":
        return policy.crud_actions(i["table"], i["extensible"])
    if op == "policy_sync_package_actions":
        return policy.sync_package_actions(i["packageId"], i["tables"], i.get("customActions", ()), i.get("extensibleTables", ()))
    if op == "policy_derive_action_name":
        return policy.derive_action_name(i["method"], i["path"])
    if op == "policy_slugify_uid":
        return policy.slugify_uid(i["name"])
    if op == "policy_validate_document":
        policy.validate_document(i["document"])
        return True
    if op == "policy_check_permission":
        return _check_permission(i)
    pytest.fail(f"unknown op {op!r}: every runner must implement every op")


def _primitive_case(case):
    want = case["expect"]
    try:
        got = {"ok": _run_primitive(case["op"], case["input"])}
    except ERRORS as e:
        got = {"error": e.code}
        if "status" in want:
            got["status"] = e.status
    assert got == want


# ---------------------------------------------------------------------------- realtime

def _stream_bytes(write) -> str:
    stream = rt.MemorySseStream()
    write(stream)
    body = stream.take_body()
    assert body.startswith(rt.SSE_CONNECTED_COMMENT), "every stream body starts with the connected comment"
    return body[len(rt.SSE_CONNECTED_COMMENT) :]


def _decision(case):
    inp = case["input"]
    event, role = inp["event"], inp.get("required_role")
    got = rt.guard_decision(event, role)
    if not rt.audit_log_event_issues(event):
        typed = rt.guard_decision(rt.AuditLogEvent.from_dict(event), role)
        assert typed == got, "the typed row decides like the dict"
    return None if got is None else got._asdict()


def _run_realtime(case):
    op, inp = case["op"], case["input"]
    if op == "guard_decision":
        return _decision(case)
    if op == "session_hash":
        got = rt.hash_session_token(inp["token"])
        assert rt.hash_blake3(inp["token"]) == got
        return got
    if op == "data_frame":
        got = _stream_bytes(lambda s: s.send(inp["data"]))
        assert rt.render_data_frame(inp["data"]) == got
        return got
    if op == "comment_frame":
        got = _stream_bytes(lambda s: s.comment(inp["text"]))
        assert rt.render_comment(inp["text"]) == got
        return got
    pytest.fail(f"unknown op {op!r}: the Python runner must implement every op")


def _realtime_case(case):
    assert _run_realtime(case) == case["expected"], case.get("note", "")


# ---------------------------------------------------------------------------- PyJWT payload text


def _py_value(v):
    """A tagged vector value (ffi-tests/tools/gen-python-json-vectors.py) as the Python object."""
    if v is None or isinstance(v, bool):
        return v
    ((tag, x),) = v.items()
    if tag == "int":
        return int(x)
    if tag == "float":
        return struct.unpack(">d", bytes.fromhex(x))[0]
    if tag == "str":
        return x
    if tag == "list":
        return [_py_value(e) for e in x]
    if tag == "dict":
        return {_py_value(k): _py_value(e) for k, e in x}
    pytest.fail(f"unknown value tag {tag!r}")


def _payload_text(token: str) -> str:
    seg = token.split(".")[1]
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)).decode("ascii")


def _pyjwt_json_case(case):
    # A payload is a dict: the value goes under one key, so its text is the value's text.
    payload = {"v": _py_value(case["value"])}
    want = case["expect"]
    if "ok" in want:
        token = jwt.encode(payload, "k" * 32, "HS256")
        assert _payload_text(token) == '{"v":' + want["ok"] + "}"
    else:
        with pytest.raises(ValueError) as info:
            jwt.encode(payload, "k" * 32, "HS256")
        assert str(info.value) == want["error"]


# ---------------------------------------------------------------------------- the files

FAMILIES = {
    "hmac": (lambda f: f.startswith("hmac-"), _hmac_case),
    "primitives": (lambda f: f.split("-")[0] in ("password", "jwt", "totp", "pkce") or f == "policy.json", _primitive_case),
    "realtime": (lambda f: f == "realtime.json", _realtime_case),
    "pyjwt-json": (lambda f: f == "python-json-dumps.json", _pyjwt_json_case),
}

# Vector files of another language's API, with the reason Python does not run them.
NOT_FOR_PYTHON = {
    "canonical-json-oracle.json": "Node's canonical JSON of JavaScript values (class instances among them, which have no "
    "Python counterpart); the core function every binding calls replays all of it (core/tests/it/canonical_oracle.rs)",
}

FILES = sorted(p.name for p in VECTORS.glob("*.json"))


def _family(name: str):
    hits = [f for f, (match, _) in FAMILIES.items() if match(name)]
    assert len(hits) <= 1, f"{name} is claimed by {hits}"
    return hits[0] if hits else None


CASES = [
    pytest.param(name, case, id=f"{name}:{case['id']}")
    for name in FILES
    if name not in NOT_FOR_PYTHON and _family(name)
    for case in _doc(name)["cases"]
]
NASKOT = [
    pytest.param(p.name, case, id=f"naskot/{p.name}:{case['id']}")
    for p in sorted((VECTORS / "naskot").glob("*.json"))
    for case in _doc(f"naskot/{p.name}")["cases"]
]

# The recorded differential vectors (ffi-tests/differential/README.md): each file is replayed
# by these modules of this folder, through the public API.
REPLAYED_BY = {
    "differential/fuz-app-realtime.json": ("test_realtime_differential.py",),
    "differential/node-auth-core.json": ("test_primitives_differential.py",),
    "differential/node-hmac-auth-core.json": (
        "test_hmac_differential.py",
        "test_hmac_scenarios_differential.py",
        "test_hmac_verify_differential.py",
    ),
    "differential/propagation.json": ("test_propagation_differential.py", "test_propagation_flows_differential.py"),
}
DIFFERENTIAL = sorted(f"differential/{p.name}" for p in (VECTORS / "differential").glob("*.json"))

MIN_CASES = {
    "password-bcrypt.json": 30,
    "password-argon2.json": 15,
    "jwt-hs256.json": 40,
    "jwt-asymmetric.json": 15,
    "totp-rfc6238.json": 50,
    "pkce-rfc7636.json": 15,
    "policy.json": 80,
    "python-json-dumps.json": 700,
}


def test_every_differential_vector_file_is_replayed_by_a_named_module():
    assert DIFFERENTIAL == sorted(REPLAYED_BY), "a differential vector file needs a replay (add it to REPLAYED_BY)"
    here = pathlib.Path(__file__).resolve().parent
    named = sorted(m for modules in REPLAYED_BY.values() for m in modules)
    for file, modules in REPLAYED_BY.items():
        for module in modules:
            source = (here / module).read_text(encoding="utf-8")
            assert f'"vectors" / "differential" / "{file.split("/")[1]}"' in source, f"{module} reads {file}"
    replays = sorted(p.name for p in here.glob("test_*_differential.py"))
    assert replays == named, "a differential replay of this folder is not named in REPLAYED_BY"


def test_every_vector_file_is_run_or_listed():
    folders = sorted(p.name for p in VECTORS.iterdir() if p.is_dir())
    assert folders == ["differential", "naskot"], "a new vector folder needs a runner here"
    for name in FILES:
        assert (name in NOT_FOR_PYTHON) != (_family(name) is not None), (
            f"{name}: claim it with a family of this runner or list it in NOT_FOR_PYTHON"
        )
    counts = Counter(p.values[0] for p in CASES)
    for name, minimum in MIN_CASES.items():
        assert counts[name] >= minimum, name
    assert len(NASKOT) == 53, "20 hash-client-secret + 33 sign-request upstream vectors"
    ops = Counter(case["op"] for case in _doc("realtime.json")["cases"])
    assert ops["guard_decision"] > 0 and ops["session_hash"] == 4
    assert ops["data_frame"] > 0 and ops["comment_frame"] > 0


@pytest.mark.parametrize("file,case", NASKOT)
def test_naskot(file, case):
    if file == "hash-client-secret.json":
        got = h.hash_client_secret(case["secret"], case["secretToken"] or None)
    elif file == "sign-request.json":
        got = h.sign_request(
            case["method"], case["path"], case["timestamp"], case["nonce"], case["body"], case["secret"]
        )
    else:
        pytest.fail(f"unknown upstream vector file {file}")
    assert got == case["expectedHex"]



@pytest.mark.parametrize("file,case", CASES)
def test_vector(file, case):
    FAMILIES[_family(file)][1](case)


def test_unknown_op_fails():
    with pytest.raises(pytest.fail.Exception, match="unknown op"):
        _run_realtime({"id": "x", "op": "no_such_op", "input": {}})
    with pytest.raises(pytest.fail.Exception, match="unknown op"):
        _run_primitive("no_such_op", {})
    with pytest.raises(pytest.fail.Exception, match="unknown op"):
        _run_hmac("no_such_op", {})

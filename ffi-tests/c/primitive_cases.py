"""The password, JWT, TOTP, PKCE and policy cases of the C vector runner: the adapter
gen_vectors.py calls for ffi-tests/vectors/{password-bcrypt,password-argon2,jwt-hs256,
jwt-asymmetric,totp-rfc6238,pkce-rfc7636,policy}.json (each case one static `vcase`
initialiser, so the C runner needs no JSON parser). Expected values are copied, never
computed. The formatting it does:
  * JSON results (verified claims, checkPermission results) are rendered compact with keys
    sorted, which is the documented output form of the C functions; JWKS documents and
    action lists keep the order of the file;
  * JSON inputs (policy documents, requests) are re-serialised compactly, and a
    policy_check `request` is split into its `documents` and the rest, the two arguments
    of authcore_policy_evaluate_query;
  * enumerations (`alg`, `algorithm`, `tokenUse`) become the header's constant names.

Strict by design: an unknown input key, a value C cannot express, or an expected value
whose JSON form is ambiguous (floats) stops the generation.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "c-common"))
import cgen  # noqa: E402  (ffi-tests/c-common)
from cgen import VectorError  # noqa: E402
FILES = [
    "password-bcrypt.json",
    "password-argon2.json",
    "jwt-hs256.json",
    "jwt-asymmetric.json",
    "totp-rfc6238.json",
    "pkce-rfc7636.json",
    "policy.json",
]

# op -> (required input keys, optional input keys, kind of the ok value)
OPS = {
    "bcrypt_verify": ({"password", "hash"}, set(), "bool"),
    "bcrypt_hash_with_salt": ({"password", "salt"}, set(), "text"),
    "bcrypt_hash_prefix": ({"password", "cost"}, set(), "text"),
    "argon2_verify": ({"password", "hash"}, set(), "bool"),
    "argon2_needs_rehash": ({"hash", "m", "t", "p"}, set(), "bool"),
    "jwt_sign": ({"alg", "secret", "payloadJson"}, {"kid"}, "text"),
    "jwt_verify": (
        {"secret", "token", "now"},
        {"leeway", "issuer", "audience", "algorithms", "tokenUse"},
        "sorted_json",
    ),
    "jwt_verify_pem": ({"alg", "publicKeyPem", "token", "now"}, {"issuer"}, "sorted_json"),
    "jwt_sign_pem": ({"alg", "privateKeyPem", "payloadJson"}, {"kid"}, "text"),
    "jwks_from_pem": ({"alg", "publicKeyPem", "kid"}, set(), "json"),
    "totp_generate_raw": ({"secretHex", "time", "algorithm", "digits", "period"}, set(), "text"),
    "totp_generate": ({"secret", "time"}, set(), "text"),
    "totp_verify": ({"secret", "code", "now", "window"}, {"lastUsedStep"}, "u64"),
    "totp_otpauth_url": ({"issuer", "account", "secret"}, set(), "text"),
    "pkce_s256_challenge": ({"verifier"}, set(), "text"),
    "pkce_verify": ({"verifier", "challenge", "method"}, set(), "true"),
    "policy_check": ({"request"}, set(), "bool"),
    "policy_crud_actions": ({"table", "extensible"}, set(), "json"),
    "policy_sync_package_actions": ({"packageId", "tables"}, {"customActions", "extensibleTables"}, "json"),
    "policy_derive_action_name": ({"method", "path"}, set(), "text_or_null"),
    "policy_slugify_uid": ({"name"}, set(), "text"),
    "policy_validate_document": ({"document"}, set(), "true"),
    "policy_check_permission": (
        {"documents", "packages", "userId", "roles", "groups", "resource"},
        {"action", "directory", "context"},
        "sorted_json",
    ),
}

JWT_ALGS = {a: "AUTHCORE_JWT_" + a.upper() for a in ("HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA")}
TOTP_ALGS = {"SHA1": "AUTHCORE_TOTP_SHA1", "SHA256": "AUTHCORE_TOTP_SHA256", "SHA512": "AUTHCORE_TOTP_SHA512"}
TOKEN_USES = {"access": "AUTHCORE_JWT_USE_ACCESS", "refresh": "AUTHCORE_JWT_USE_REFRESH",
              "mfa_pending": "AUTHCORE_JWT_USE_MFA_PENDING"}


def utf8(s, where):
    if not isinstance(s, str):
        raise VectorError(f"{where}: expected a string, got {type(s).__name__}")
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise VectorError(f"{where}: a lone surrogate cannot be passed as UTF-8 ({e})")


def uint(x, where, bits=64):
    if isinstance(x, bool) or not isinstance(x, int) or x < 0 or x >= 1 << bits:
        raise VectorError(f"{where}: expected an unsigned {bits}-bit integer, got {x!r}")
    return str(x) + ("ULL" if bits == 64 else "u")


def no_floats(v, where):
    if isinstance(v, float):
        raise VectorError(f"{where}: floats have no single JSON form; not supported")
    if isinstance(v, dict):
        for k, x in v.items():
            no_floats(x, f"{where}.{k}")
    elif isinstance(v, list):
        for x in v:
            no_floats(x, where)


def compact(v, where, sort=False):
    no_floats(v, where)
    return utf8(json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=sort), where)


def str_list(v, where):
    """A string or an array of strings, as the runner's authcore_str array."""
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise VectorError(f"{where}: expected a string or an array of strings")
    return [utf8(x, where) for x in items]


def build_case(file, c):
    case, op, where, inp, expect = cgen.new_case(file, c, OPS)
    if op not in OPS:
        return case
    required, optional, kind = OPS[op]
    missing = required - set(inp)
    extra = set(inp) - required - optional
    if missing or extra:
        raise VectorError(f"{where}: input keys missing {sorted(missing)}, unknown {sorted(extra)} for op {op}")

    def t(key):
        return utf8(inp[key], f"{where}.{key}")

    def enum(key, table):
        if inp[key] not in table:
            raise VectorError(f"{where}.{key}: {inp[key]!r} is not one of {sorted(table)}")
        return table[inp[key]]

    if op in ("bcrypt_verify", "argon2_verify"):
        case.s("password", t("password"))
        case.s("hash", t("hash"))
    elif op == "bcrypt_hash_with_salt":
        case.s("password", t("password"))
        case.s("salt", t("salt"))
    elif op == "bcrypt_hash_prefix":
        case.s("password", t("password"))
        case.raw("cost", uint(inp["cost"], f"{where}.cost", 32))
    elif op == "argon2_needs_rehash":
        case.s("hash", t("hash"))
        for k in ("m", "t", "p"):
            case.raw(k, uint(inp[k], f"{where}.{k}", 32))
    elif op in ("jwt_sign", "jwt_sign_pem"):
        case.raw("alg", enum("alg", JWT_ALGS))
        if op == "jwt_sign":
            case.s("secret", t("secret"))
        else:
            case.s("pem", t("privateKeyPem"))
        case.s("payload", t("payloadJson"))
        case.s("kid", t("kid") if "kid" in inp else None)
    elif op in ("jwt_verify", "jwt_verify_pem"):
        if op == "jwt_verify":
            case.raw("alg", "AUTHCORE_JWT_HS256")
            case.s("secret", t("secret"))
            if "algorithms" in inp:
                algs = str_list(inp["algorithms"], f"{where}.algorithms")
                names = [JWT_ALGS.get(a.decode()) for a in algs]
                if None in names or not names:
                    raise VectorError(f"{where}.algorithms: unknown algorithm in {inp['algorithms']!r}")
                case.raw("accepted_algs", " | ".join(names))
            else:
                # node's jwt.verify(token, secret): HS256, HS384 and HS512.
                case.raw("accepted_algs", "AUTHCORE_JWT_HS256 | AUTHCORE_JWT_HS384 | AUTHCORE_JWT_HS512")
            if "tokenUse" in inp:
                case.raw("token_use", enum("tokenUse", TOKEN_USES))
        else:
            case.raw("alg", enum("alg", JWT_ALGS))
            case.s("pem", t("publicKeyPem"))
        case.s("token", t("token"))
        case.raw("now_s", uint(inp["now"], f"{where}.now"))
        if inp["now"] == 0:
            raise VectorError(f"{where}.now: 0 means the system clock in the C API")
        case.raw("leeway", uint(inp.get("leeway", 0), f"{where}.leeway"))
        case.arr("issuers", str_list(inp["issuer"], f"{where}.issuer") if "issuer" in inp else [])
        case.arr("audiences", str_list(inp["audience"], f"{where}.audience") if "audience" in inp else [])
    elif op == "jwks_from_pem":
        case.raw("alg", enum("alg", JWT_ALGS))
        case.s("pem", t("publicKeyPem"))
        case.s("kid", t("kid"))
    elif op == "totp_generate_raw":
        try:
            case.s("secret", bytes.fromhex(inp["secretHex"]))
        except (TypeError, ValueError):
            raise VectorError(f"{where}.secretHex: not hex")
        case.raw("now_s", uint(inp["time"], f"{where}.time"))
        case.raw("algorithm", enum("algorithm", TOTP_ALGS))
        case.raw("digits", uint(inp["digits"], f"{where}.digits", 32))
        case.raw("period", uint(inp["period"], f"{where}.period"))
    elif op == "totp_generate":
        case.s("secret", t("secret"))
        case.raw("now_s", uint(inp["time"], f"{where}.time"))
    elif op == "totp_verify":
        case.s("secret", t("secret"))
        case.s("code", t("code"))
        case.raw("now_s", uint(inp["now"], f"{where}.now"))
        case.raw("window", uint(inp["window"], f"{where}.window"))
        if "lastUsedStep" in inp:
            case.raw("has_last_used_step", "true")
            case.raw("last_used_step", uint(inp["lastUsedStep"], f"{where}.lastUsedStep"))
    elif op == "totp_otpauth_url":
        case.s("issuer", t("issuer"))
        case.s("account", t("account"))
        case.s("secret", t("secret"))
    elif op == "pkce_s256_challenge":
        case.s("verifier", t("verifier"))
    elif op == "pkce_verify":
        case.s("verifier", t("verifier"))
        case.s("challenge", t("challenge"))
        case.s("method", t("method"))
    elif op == "policy_check":
        req = inp["request"]
        if not isinstance(req, dict) or "documents" not in req:
            raise VectorError(f"{where}.request: an object with documents expected")
        rest = {k: v for k, v in req.items() if k != "documents"}
        case.s("documents", compact(req["documents"], where))
        case.s("request", compact(rest, where))
    elif op == "policy_crud_actions":
        case.s("table", t("table"))
        if not isinstance(inp["extensible"], bool):
            raise VectorError(f"{where}.extensible: expected a boolean")
        case.raw("extensible", "true" if inp["extensible"] else "false")
    elif op == "policy_sync_package_actions":
        case.s("request", compact(inp, where))
    elif op == "policy_derive_action_name":
        case.s("method", t("method"))
        case.s("path", t("path"))
    elif op == "policy_slugify_uid":
        case.s("name", t("name"))
    elif op == "policy_validate_document":
        case.s("documents", compact(inp["document"], where))
    elif op == "policy_check_permission":
        rest = {k: v for k, v in inp.items() if k != "documents"}
        case.s("documents", compact(inp["documents"], where))
        case.s("request", compact(rest, where))

    is_error, ok = cgen.expectation(case, expect, where)
    if is_error:
        return case
    if kind == "bool":
        cgen.expect_bool(case, ok, where)
    elif kind == "true":
        if ok is not True:
            raise VectorError(f"{where}: this op succeeds with true")
    elif kind == "u64":
        case.raw("expect_u64", uint(ok, f"{where}.expect.ok"))
    elif kind == "text":
        case.s("expect_text", utf8(ok, f"{where}.expect.ok"))
    elif kind == "text_or_null":
        case.raw("expect_found", "0" if ok is None else "1")
        case.s("expect_text", b"" if ok is None else utf8(ok, f"{where}.expect.ok"))
    elif kind == "json":
        case.s("expect_text", compact(ok, f"{where}.expect.ok"))
    elif kind == "sorted_json":
        case.s("expect_text", compact(ok, f"{where}.expect.ok", sort=True))
    return case


# The fields of the generated case struct these cases set (besides the common ones).
FIELDS = """    /* passwords, JWT, TOTP, PKCE, policies */
    authcore_str password, hash, salt, payload, kid, token, pem, code, verifier, challenge,
        issuer, account, table, name, documents, request;
    const authcore_str *issuers;
    size_t issuers_len;
    const authcore_str *audiences;
    size_t audiences_len;
    uint32_t alg, accepted_algs, token_use, algorithm, digits, cost, m, t, p;
    uint64_t now_s, leeway, period, window, last_used_step;
    bool has_last_used_step, extensible;
"""

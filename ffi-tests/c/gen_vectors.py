#!/usr/bin/env python3
"""Turn the shared vectors into C data: `vectors.gen.h` for run_vectors.c, the one C vector
runner.

C has no JSON parser here, so every case becomes one static `vcase` initialiser. Every file
of ffi-tests/vectors/ is claimed by an adapter or listed in NOT_FOR_C with the reason:
  * `naskot/*.json`, `hmac-*.json` and the signing track of
    `differential/node-hmac-auth-core.json`: the HMAC adapter below;
  * the password, JWT, TOTP, PKCE and policy files: primitive_cases.py;
  * the bcrypt and HS256/384/512 verification cases of `differential/node-auth-core.json`:
    node_auth_cases.py (which counts, by family and with the reason, the cases C cannot
    express);
  * the buildQueueName cases of `differential/propagation.json`: propagation_queue_cases.
The files of `differential/` are held to the same rule as the top-level ones; a vector
folder other than `naskot/` and `differential/` stops the generation until it is claimed.
Adapters only copy expected values, never compute them, with two exceptions that are pure
formatting: getHeader() resolution (first case-insensitive match, first array element: C
takes the four header values, not a header list) and rendering an expected `parse_record`
object as the record JSON the original writes (its key order, JavaScript number rendering).

Strict by design: an input key an adapter does not know, a value C cannot express, or a
vector file nobody claims stops the generation with an error. An unknown `op` is emitted
as OP_UNKNOWN so that run_vectors fails on it by name.

Usage: gen_vectors.py [--vectors DIR] --out FILE
"""

import decimal
import glob
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VECTORS = os.path.join(HERE, "..", "vectors")
sys.path.insert(0, os.path.join(HERE, "..", "c-common"))
import cgen  # noqa: E402  (ffi-tests/c-common)
from cgen import VectorError  # noqa: E402

sys.path.insert(0, HERE)
import node_auth_cases  # noqa: E402
import primitive_cases  # noqa: E402

# op -> (allowed input keys, kind of the ok value)
OPS = {
    "hash_client_secret": ({"secret", "secretToken"}, "text"),
    "hash_body": ({"body", "bodyHex"}, "text"),
    "build_signing_payload": ({"method", "path", "timestamp", "nonce", "body", "bodyHex"}, "text"),
    "sign_request": ({"method", "path", "timestamp", "nonce", "body", "bodyHex", "secret"}, "text"),
    "normalize_path": ({"path"}, "text"),
    "safe_equal_hex": ({"a", "b"}, "bool"),
    "message_canonical": ({"message"}, "text"),
    "sign_message": ({"clientId", "message", "secret", "secretIsHashed", "hashToken"}, "signed"),
    "verify_message": ({"clientId", "message", "secret", "secretIsHashed", "hashToken", "signature"}, "bool"),
    "ip_allowed": ({"ip", "rules"}, "bool"),
    "normalize_allowed_ips": ({"rules"}, "list"),
    "parse_record": ({"raw"}, "record"),
    "build_queue_name": ({"amqpQueue"}, "text"),
    "verify_with_record": (
        {"method", "path", "headers", "body", "bodyHex", "now", "maxSkewMs", "record", "ipCandidates"},
        "verified",
    ),
}

NASKOT = {
    "hash-client-secret.json": "hash_client_secret",
    "sign-request.json": "sign_request",
}

SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(s, where):
    """Text as the bytes the original hashes: a JavaScript string is UTF-8 encoded with
    U+FFFD for lone surrogates. C text arguments are UTF-8, so that is what we pass."""
    if not isinstance(s, str):
        raise VectorError(f"{where}: expected a string, got {type(s).__name__}")
    return SURROGATE.sub("\ufffd", s).encode("utf-8")


def c_double(x, where):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise VectorError(f"{where}: expected a number, got {x!r}")
    f = float(x)
    if math.isnan(f):
        return "NAN"
    if math.isinf(f):
        return "INFINITY" if f > 0 else "(-INFINITY)"
    return repr(f)


def js_number(x):
    """ECMAScript Number::toString for a finite double (what JSON.stringify writes):
    the shortest round-trip digits (Python's repr), laid out by ECMAScript's rules."""
    f = float(x)
    if f == 0:
        return "0"
    sign, digit_tuple, exp = decimal.Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exp + k  # the decimal point sits after n digits
    sign = "-" if f < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mant = digits if k == 1 else digits[0] + "." + digits[1:]
    return sign + mant + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def js_string(s):
    """JSON.stringify of a string (V8): `"`, `\\`, short escapes, other controls as
    lowercase \\u00xx; everything else raw."""
    out = ['"']
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for ch in s:
        if ch in short:
            out.append(short[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def record_json(o, where):
    keys = ["secretHash", "createdAt", "updatedAt", "expiresAt", "allowedIps"]
    if not isinstance(o, dict) or sorted(o) != sorted(keys):
        raise VectorError(f"{where}: a parse_record result must have exactly {keys}")

    def num(v):
        return "null" if v is None else js_number(v)

    ips = ",".join(js_string(ip) for ip in o["allowedIps"])
    text = (
        '{"secretHash":%s,"createdAt":%s,"updatedAt":%s,"expiresAt":%s,"allowedIps":[%s]}'
        % (js_string(o["secretHash"]), num(o["createdAt"]), num(o["updatedAt"]), num(o["expiresAt"]), ips)
    )
    return utf8(text, where)


def get_header(headers, name, where):
    """The original's getHeader: first case-insensitive match in insertion order; an
    array gives its first element; a missing element is a missing header."""
    if not isinstance(headers, dict):
        raise VectorError(f"{where}: headers must be an object")
    for k, v in headers.items():
        if k.lower() == name:
            if isinstance(v, list):
                v = v[0] if v else None
            if v is None:
                return None
            if not isinstance(v, str):
                raise VectorError(f"{where}: header {k} is {v!r}; C header values are strings")
            return utf8(v, f"{where}.headers.{k}")
    return None


def body_of(inp, where):
    if "bodyHex" in inp:
        return bytes.fromhex(inp["bodyHex"])
    if "body" in inp:
        return utf8(inp["body"], f"{where}.body")
    return b""


def str_list(items, where):
    """An array for C: strings become text, anything else a NULL entry (a non-string)."""
    if not isinstance(items, list):
        raise VectorError(f"{where}: expected an array")
    return [utf8(v, where) if isinstance(v, str) else None for v in items]


def build_case(file, c):
    case, op, where, inp, expect = cgen.new_case(file, c, OPS)
    if op not in OPS:
        return case
    allowed, kind = OPS[op]
    extra = set(inp) - allowed
    if extra:
        raise VectorError(f"{where}: input keys {sorted(extra)} are unknown to this adapter for op {op}")

    def text(key, optional=False):
        if key not in inp or (optional and inp[key] is None):
            if optional:
                return None
            raise VectorError(f"{where}: input.{key} is required")
        return utf8(inp[key], f"{where}.{key}")

    if op == "hash_client_secret":
        case.s("secret", text("secret"))
        case.s("secret_token", text("secretToken", optional=True))
    elif op == "hash_body":
        case.s("body", body_of(inp, where))
    elif op in ("build_signing_payload", "sign_request"):
        case.s("method", text("method"))
        case.s("path", text("path"))
        case.raw("timestamp", c_double(inp.get("timestamp"), f"{where}.timestamp"))
        case.s("nonce", text("nonce"))
        case.s("body", body_of(inp, where))
        if op == "sign_request":
            case.s("secret", text("secret"))
    elif op == "normalize_path":
        case.s("path", text("path"))
    elif op == "safe_equal_hex":
        case.s("a", text("a"))
        case.s("b", text("b"))
    elif op == "message_canonical":
        case.s("message", message_json(inp, where))
    elif op in ("sign_message", "verify_message"):
        case.s("client_id", text("clientId"))
        case.s("message", message_json(inp, where))
        case.s("secret", text("secret"))
        case.raw("secret_is_hashed", "true" if inp.get("secretIsHashed") else "false")
        case.s("hash_token", text("hashToken", optional=True))
        if op == "verify_message":
            case.s("signature", text("signature"))
    elif op == "ip_allowed":
        case.s("ip", text("ip"))
        case.arr("rules", str_list(inp.get("rules", []), f"{where}.rules"))
    elif op == "normalize_allowed_ips":
        case.arr("rules", str_list(inp.get("rules", []), f"{where}.rules"))
    elif op == "parse_record":
        case.s("raw", text("raw"))
    elif op == "build_queue_name":
        case.s("name", text("amqpQueue"))
    elif op == "verify_with_record":
        h = inp.get("headers", {})
        case.s("method", text("method"))
        case.s("path", text("path"))
        case.s("h_client_id", get_header(h, "x-client-id", where))
        case.s("h_signature", get_header(h, "x-signature", where))
        case.s("h_timestamp", get_header(h, "x-timestamp", where))
        case.s("h_nonce", get_header(h, "x-nonce", where))
        case.s("body", body_of(inp, where))
        case.raw("now", c_double(inp.get("now"), f"{where}.now"))
        case.raw("max_skew", c_double(inp.get("maxSkewMs", 300000), f"{where}.maxSkewMs"))
        if "record" not in inp:
            raise VectorError(f"{where}: input.record is required (null for an unknown client)")
        case.s("record", text("record", optional=True))
        case.arr("ips", str_list(inp.get("ipCandidates", []), f"{where}.ipCandidates"))

    is_error, ok = cgen.expectation(case, expect, where)
    if is_error:
        return case
    if kind == "text":
        case.s("expect_text", utf8(ok, f"{where}.expect.ok"))
    elif kind == "bool":
        cgen.expect_bool(case, ok, where)
    elif kind == "list":
        items = str_list(ok, f"{where}.expect.ok")
        if any(i is None for i in items):
            raise VectorError(f"{where}: expected rules must be strings")
        case.s("expect_text", b"\0".join(items))
        case.raw("expect_count", str(len(items)))
    elif kind == "record":
        case.s("expect_text", record_json(ok, f"{where}.expect.ok"))
    elif kind == "signed":
        case.s("expect_client_id", utf8(ok["clientId"], where))
        case.s("expect_message_hash", utf8(ok["messageHash"], where))
        case.s("expect_signature", utf8(ok["signature"], where))
    elif kind == "verified":
        case.s("expect_client_id", utf8(ok["clientId"], where))
        case.raw("expect_timestamp", c_double(ok["timestamp"], where))
        case.s("expect_nonce", utf8(ok["nonce"], where))
        case.s("expect_signature", utf8(ok["signature"], where))
    return case


def message_json(inp, where):
    if "message" not in inp:
        raise VectorError(f"{where}: input.message is required")
    # ensure_ascii keeps lone surrogates as \udXXX escapes, which the core keeps.
    return json.dumps(inp["message"], ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode()


def naskot_cases(path):
    name = os.path.basename(path)
    if name not in NASKOT:
        raise VectorError(f"{path}: unknown upstream vector file")
    op = NASKOT[name]
    out = []
    for c in cgen.load_cases(path):
        inp = {k: v for k, v in c.items() if k not in ("id", "expectedHex")}
        if op == "hash_client_secret":
            # The upstream test calls hashClientSecret(secret, secretToken || undefined).
            if inp.get("secretToken") == "":
                inp["secretToken"] = None
        out.append({"id": c["id"], "op": op, "input": inp, "expect": {"ok": c["expectedHex"]}})
    return out


DIFFERENTIAL_OPS = {
    "hashClientSecret": "hash_client_secret",
    "hashBody": "hash_body",
    "buildSigningPayload": "build_signing_payload",
    "signRequest": "sign_request",
    "safeEqualHex": "safe_equal_hex",
    "signMessage": "sign_message",
    "verifyMessage": "verify_message",
}


def _js_only(v):
    """A value JSON cannot say (the harness's tags: undefined, -0, NaN, Dates)."""
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in ("$undefined", "$number", "$date"):
            return True
        return any(_js_only(x) for x in v.values())
    if isinstance(v, list):
        return any(_js_only(x) for x in v)
    return False


def differential_cases(path):
    """The recorded differential vectors of the signing track (what @naskot/node-hmac-auth-core
    answered; ffi-tests/differential/README.md), for the calls C has: successes only (an
    error's class and message are Node's), none marked kept, none with a lone surrogate
    (C text is UTF-8) or a JS-only value, timestamps finite, verifyMessage only with a
    recorded signature."""
    out = []
    for c in cgen.load_cases(path):
        op = DIFFERENTIAL_OPS.get(c["op"])
        inp = dict(c["input"])
        if inp.get("secretToken") == {"$undefined": True}:
            del inp["secretToken"]
        if (
            op is None
            or c.get("kept")
            or "ok" not in c["expect"]
            or _js_only(inp)
            or SURROGATE.search(json.dumps(c, ensure_ascii=False))
            or (op == "verify_message" and inp.get("signature") == "sign")
        ):
            continue
        if op in ("build_signing_payload", "sign_request"):
            ts = inp["timestamp"]
            if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
                continue
        out.append({"id": c["id"], "op": op, "input": inp, "expect": c["expect"]})
    return out


# Vector files of other languages' APIs, with the reason C does not run them.
NOT_FOR_C = {
    "realtime.json": "fuz_app's SSE guard has no C API",
    "canonical-json-oracle.json": "Node's canonical JSON of JavaScript values (class instances among them); the "
    "core function authcore_message_canonical calls replays all of it (core/tests/it/canonical_oracle.rs)",
    "python-json-dumps.json": "the text of Python's json.dumps, which only the Python binding signs",
    "differential/fuz-app-realtime.json": "scenarios over fuz_app's SubscriberRegistry and SSE auth guard "
    "(streams, Response bodies); the SSE guard has no C API",
}
PROPAGATION_FILE = "differential/propagation.json"
# The files of differential/ the adapters claim.
DIFFERENTIAL = {
    "differential/node-hmac-auth-core.json": "the HMAC signing track and verifyHttpSignature (this file)",
    node_auth_cases.FILE: "node_auth_cases.py",
    PROPAGATION_FILE: "its buildQueueName cases through authcore_propagation_build_queue_name "
    "(propagation_queue_cases); the rest is the Node propagation package's JavaScript surface: "
    "createPropagator's option checks, the HmacPropagationError class and flows on the Node "
    "addon's in-process mesh",
}


def propagation_queue_cases(path):
    """The recorded buildQueueName answers of @naskot/node-hmac-auth-core-propagation: the
    queue name, or the original's plain Error, which C reports as
    PROPAGATION_INVALID_QUEUE_NAME with the same message. Names with a lone surrogate are
    left out (C text is UTF-8, so the message would quote U+FFFD instead)."""
    out = []
    for c in cgen.load_cases(path):
        if c["op"] != "buildQueueName" or SURROGATE.search(json.dumps(c, ensure_ascii=False)):
            continue
        expect = c["expect"]
        if "error" in expect:
            if expect["error"].get("class") != "Error":
                raise VectorError(f"{path}#{c['id']}: unexpected error class {expect['error']}")
            expect = {"error": "PROPAGATION_INVALID_QUEUE_NAME", "message": expect["error"]["message"]}
        out.append({"id": c["id"], "op": "build_queue_name", "input": c["input"], "expect": expect})
    if not out:
        raise VectorError(f"{path}: no buildQueueName cases")
    return out


# Errors the original raises before it compares the signature: their cases need no valid
# signature in the request.
BEFORE_SIGNATURE = {
    "MISSING_CLIENT_ID", "MISSING_SIGNATURE", "MISSING_TIMESTAMP", "MISSING_NONCE", "INVALID_TIMESTAMP",
    "TIMESTAMP_SKEW", "UNKNOWN_CLIENT", "CLIENT_EXPIRED", "MISSING_CLIENT_IP", "CLIENT_IP_NOT_ALLOWED",
}


def differential_verify_cases(path):
    """The recorded `verifyHttpSignature` cases as `verify_with_record` (the sans-IO
    verification; the nonce claim is the caller's, so only the first call is mapped). The
    request's signature is the original's own: a literal header value, the `signature` it
    returned (a request the harness signed and that verified), or, for a request rejected
    before the comparison, any value. Cases signed by the harness and rejected at the
    comparison (their signature is not recorded) are left out, as are kept cases, JS-only
    values and lone surrogates. The IP candidates are listed in the original's order
    (`metadata.ip`, `metadata.ips`, `metadata.forwardedFor`, the `x-forwarded-for`
    header, `metadata.remoteAddress`): formatting, like getHeader."""
    out = []
    for c in cgen.load_cases(path):
        if c["op"] != "verifyHttpSignature" or c.get("kept"):
            continue
        inp, first = c["input"], c["expect"]["ok"]["first"]
        if _js_only(inp) or SURROGATE.search(json.dumps(c, ensure_ascii=False)):
            continue
        headers = dict(inp["headers"])
        sig = headers.get("x-signature")
        if sig in ("valid", "VALID-UPPER"):
            if "ok" in first:
                headers["x-signature"] = first["ok"]["signature"]
            elif first["error"].get("code") in BEFORE_SIGNATURE:
                headers["x-signature"] = "f" * 64
            else:
                continue
        if "error" in first and "code" not in first["error"]:
            continue
        meta = inp.get("metadata") or {}
        ips = []
        for v in (meta.get("ip"), meta.get("ips"), meta.get("forwardedFor"), get_header(headers, "x-forwarded-for", c["id"]), meta.get("remoteAddress")):
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            if isinstance(v, str):
                ips.append(v)
            elif isinstance(v, list):
                ips.extend(x for x in v if isinstance(x, str))
        v_inp = {
            "method": inp["method"],
            "path": inp["path"],
            "headers": headers,
            "body": inp.get("rawBody") or "",
            "now": inp["now"],
            "record": inp["record"],
            "ipCandidates": ips,
        }
        if "maxSkewMs" in inp:
            v_inp["maxSkewMs"] = inp["maxSkewMs"]
        expect = {"ok": first["ok"]} if "ok" in first else {"error": first["error"]["code"], "status": first["error"]["status"]}
        out.append({"id": c["id"], "op": "verify_with_record", "input": v_inp, "expect": expect})
    return out


def main():
    args = cgen.parse_args(DEFAULT_VECTORS)
    folders = sorted(e.name for e in os.scandir(args.vectors) if e.is_dir())
    if folders != ["differential", "naskot"]:
        raise VectorError(f"vector folders no C adapter claims (claim them here): {folders}")
    top = sorted(os.path.basename(p) for p in glob.glob(os.path.join(args.vectors, "*.json")))
    diff = sorted("differential/" + os.path.basename(p) for p in glob.glob(os.path.join(args.vectors, "differential", "*.json")))
    hmac = [n for n in top if n.startswith("hmac-")]
    unclaimed = set(top + diff) - set(hmac) - set(primitive_cases.FILES) - set(DIFFERENTIAL) - set(NOT_FOR_C)
    if unclaimed:
        raise VectorError(f"vector files no C adapter claims (claim them or list them in NOT_FOR_C): {sorted(unclaimed)}")
    missing = (set(primitive_cases.FILES) | set(DIFFERENTIAL)) - set(top + diff)
    if missing:
        raise VectorError(f"missing vector files: {sorted(missing)}")
    files = sorted(glob.glob(os.path.join(args.vectors, "naskot", "*.json")))
    files += [os.path.join(args.vectors, n) for n in hmac]
    files += [os.path.join(args.vectors, "differential", "node-hmac-auth-core.json")]
    files += [os.path.join(args.vectors, n) for n in primitive_cases.FILES]
    files += [os.path.join(args.vectors, node_auth_cases.FILE)]
    files += [os.path.join(args.vectors, PROPAGATION_FILE)]

    def cases_of(path, rel):
        if rel.startswith("naskot" + os.sep):
            return naskot_cases(path)
        if rel == node_auth_cases.FILE.replace("/", os.sep):
            replayed, left_out = node_auth_cases.cases(path)
            print(node_auth_cases.report(replayed, left_out))
            return replayed
        if rel == PROPAGATION_FILE.replace("/", os.sep):
            return propagation_queue_cases(path)
        if rel.startswith("differential" + os.sep):
            return differential_cases(path) + differential_verify_cases(path)
        cases = cgen.load_cases(path)
        if not cases:
            raise VectorError(f"{path}: no cases")
        return cases

    def build(rel, c):
        if rel in primitive_cases.FILES:
            return primitive_cases.build_case(rel, c)
        if rel == node_auth_cases.FILE.replace("/", os.sep):
            case = primitive_cases.build_case(rel, c)
            # A refusal of the original: its message must end C's message.
            if "message" in c["expect"]:
                case.s("expect_message_suffix", utf8(c["expect"]["message"], f"{rel}#{c['id']}"))
            return case
        if rel == PROPAGATION_FILE.replace("/", os.sep):
            message = c["expect"].pop("message", None)
            case = build_case(rel, c)
            if message is not None:
                case.s("expect_message_suffix", utf8(message, f"{rel}#{c['id']}"))
            return case
        return build_case(rel, c)

    rendered, per_file = cgen.render_files(args.vectors, files, cases_of, build)
    cgen.write_header(
        args.out,
        generator="ffi-tests/c/gen_vectors.py",
        guard="AUTHCORE_VECTORS_GEN_H",
        includes=["<math.h>", "<stdbool.h>", "<stddef.h>", "<stdint.h>", '"authcore.h"'],
        enum="vop",
        ops={**OPS, **primitive_cases.OPS},
        struct=VCASE_STRUCT,
        case_type="vcase",
        rendered=rendered,
        per_file=per_file,
    )


VCASE_STRUCT = """typedef struct vcase {
    const char *file, *id, *op_name;
    enum vop op;
    /* inputs ({NULL, 0} = absent); HMAC */
    authcore_str secret, secret_token, body, method, path, nonce, a, b, ip, client_id,
        message, signature, hash_token, raw, record, h_client_id, h_signature, h_timestamp,
        h_nonce;
    double timestamp, now, max_skew;
    bool secret_is_hashed;
    const authcore_str *rules;
    size_t rules_len;
    const authcore_str *ips;
    size_t ips_len;
""" + primitive_cases.FIELDS + """    /* expectations: expect_error NULL means success, "*" any error (the original's
     * refusal names no reason C has; expect_status and expect_message_suffix still hold) */
    const char *expect_error;
    authcore_str expect_message_suffix; /* {NULL, 0}: the message is not checked */
    int expect_status; /* 0 = not checked */
    authcore_str expect_text, expect_client_id, expect_message_hash, expect_signature,
        expect_nonce;
    int expect_bool, expect_found;
    size_t expect_count;
    double expect_timestamp;
    uint64_t expect_u64;
} vcase;

"""

if __name__ == "__main__":
    cgen.run(main)

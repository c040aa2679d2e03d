"""C side of the cross-language parity cases: reads ffi-tests/parity/cases.json and writes
one C function per case (the call through authcore.h, then `outcome()` of run_parity.c).

C has no clients lifecycle, no instance options, no JWKS import and no token stores: those
ops are listed in NOT_IN_C with the reason and counted as such by the runner. An op that is
in neither table fails the generation. A case whose input C cannot express (a port that is
not a whole number, a non-string IP entry) is listed by id in the output, with the reason.

    python3 ffi-tests/parity/gen_c.py --out target/ffi-tests-c/parity_cases.gen.h
"""

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "c-common"))
import cgen  # noqa: E402

NOT_IN_C = {
    "init_http_auth": "C has no HMAC instance (no store); the verifier takes its window per call",
    "create_client": "C has no clients lifecycle (the caller stores records)",
    "set_allowed_ips": "C has no clients lifecycle (the caller stores records)",
    "jwt_add_jwks": "C has no JWKS import",
    "token_store": "C has no refresh-token store",
    "message_sign": "C has no store-backed message track (the caller stores records)",
    "message_verify": "C has no store-backed message track (the caller stores records)",
    "regenerate_secret": "C has no clients lifecycle (the caller stores records)",
    "audit_event": "C has no realtime guard",
}


# authcore.h names the propagation results AUTHCORE_PROPAGATION_<code> (their bare codes
# would collide with the HMAC ones: UNKNOWN_CLIENT, INTERNAL_ERROR), so
# authcore_result_name() answers PROPAGATION_<code> for the core's <code>.
PROPAGATION_CODES = {
    "MANAGEMENT_NOT_CONFIGURED", "UNKNOWN_CLIENT", "INVALID_OPTIONS", "INVALID_QUEUE_NAME",
    "SYNC_ERROR", "CALLBACK_ERROR", "TRANSPORT_ERROR", "RANDOM_UNAVAILABLE",
}


def c_code(op, code):
    """The name authcore_result_name() gives the core's `code` for a call of `op`."""
    if op == "create_propagator" and code in PROPAGATION_CODES:
        return "PROPAGATION_" + code
    return code


class Unexpressible(Exception):
    pass


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if "$number" in v:
            return float(v["$number"].replace("Infinity", "inf"))
        if "$repeat" in v:
            return v["$repeat"][0] * v["$repeat"][1]
        return {k: decode(x) for k, x in v.items()}
    return v


def s(text):
    """An authcore_str initialiser (None = absent)."""
    return cgen.c_str(None if text is None else text.encode("utf-8"))


def lit(text):
    return cgen.c_bytes(text.encode("utf-8"))


def dbl(x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise Unexpressible(f"not a number: {x!r}")
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return repr(float(x))


def op_verify(i):
    h = i["headers"]
    if any(isinstance(v, list) for v in h.values()):
        raise Unexpressible("a repeated header (the caller passes the one value getHeader picks)")
    client = i.get("client")
    lines = []
    if client:
        if any(not isinstance(r, str) for r in client.get("allowedIps", [])):
            raise Unexpressible("non-string allowedIps entry")
        ips = json.dumps(client.get("allowedIps", []))
        exp = "null" if client.get("expiresAt") is None else json.dumps(client["expiresAt"])
        lines.append(f'char record[512]; make_record(record, sizeof record, {lit(client["secret"])}, {lit(exp)}, {lit(ips)});')
        rec = "{record, strlen(record)}"
    else:
        rec = "{NULL, 0}"
    sig = h.get("x-signature")
    if i.get("sign"):
        body = i.get("signBody", i.get("body", ""))
        lines.append(
            f'char sig[65]; sign_for(sig, {lit(i["method"])}, {lit(i["path"])}, {dbl(float(h["x-timestamp"]))}, '
            f'{lit(h["x-nonce"])}, {lit(body)}, {lit(client["secret"])});'
        )
        sig_s = "{sig, 64}"
    else:
        sig_s = s(sig)
    # The IP sources as the host holds them; the core orders the candidates
    # (authcore_ip_candidates), as it does for Node and Python.
    meta = i.get("metadata") or {}
    fields = {}
    for key, name in (("ip", "ip"), ("ips", "ips"), ("forwardedFor", "forwarded_for"), ("remoteAddress", "remote_address")):
        v = meta.get(key)
        values = [v] if isinstance(v, str) else v if isinstance(v, list) else []
        if any(not isinstance(x, str) for x in values):
            raise Unexpressible(f"a non-string metadata.{key} entry")
        lines.append(f"const authcore_str src_{name}[] = {{{', '.join(s(x) for x in values) or '{NULL, 0}'}}};")
        fields[name] = f"{{src_{name}, {len(values)}}}"
    xff = h.get("x-forwarded-for")
    lines.append(
        "const authcore_ip_sources src = {"
        f".ip = {fields['ip']}, .ips = {fields['ips']}, .forwarded_for = {fields['forwarded_for']}, "
        f".forwarded_header = {s(xff if isinstance(xff, str) else None)}, .remote_address = {fields['remote_address']}}};"
    )
    lines.append("char cand_buf[1024]; authcore_str cands[16];")
    lines.append("size_t ncands = ip_candidates_of(&src, cand_buf, sizeof cand_buf, cands, 16);")
    body = i.get("body", "").encode("utf-8")
    lines.append(
        "authcore_verify_request req = {"
        f".method = {s(i['method'])}, .path = {s(i['path'])}, .client_id = {s(h.get('x-client-id'))}, "
        f".signature = {sig_s}, .timestamp = {s(h.get('x-timestamp'))}, .nonce = {s(h.get('x-nonce'))}, "
        f".body = (const uint8_t *){cgen.c_bytes(body)}, .body_len = {len(body)}, .now_ms = {dbl(i['now'])}, "
        f".max_skew_ms = {dbl(i['maxSkewMs']) if 'maxSkewMs' in i else 'AUTHCORE_DEFAULT_MAX_SKEW_MS'}, .record = {rec}, "
        ".ip_candidates = cands, .ip_candidates_len = ncands};"
    )
    lines.append("authcore_verification v;")
    lines.append("authcore_result rc = authcore_verify_with_record(&req, &v);")
    lines.append(
        "char okv[512] = \"\"; if (rc == AUTHCORE_OK) snprintf(okv, sizeof okv, "
        "\"{\\\"clientId\\\":\\\"%.*s\\\",\\\"nonce\\\":\\\"%s\\\",\\\"timestamp\\\":%.17g}\", "
        "(int)v.client_id_len, req.client_id.ptr + v.client_id_offset, "
        f"{lit(h.get('x-nonce') or '')}, v.timestamp);"
    )
    lines.append("outcome(rc, rc == AUTHCORE_OK ? 200 : v.status, okv);")
    return lines


def op_sign_message_pure(i):
    return [
        "authcore_message_input in = {"
        f".client_id = {s(i['clientId'])}, .message_json = {s(json.dumps(i['message'], separators=(',', ':')))}, "
        f".secret = {s(i['secret'])}, .secret_is_hashed = false, .hash_token = {{NULL, 0}}}};",
        "authcore_signed_message out;",
        "authcore_result rc = authcore_sign_message(&in, &out);",
        "char okv[300] = \"\"; if (rc == AUTHCORE_OK) snprintf(okv, sizeof okv, "
        "\"{\\\"clientId\\\":\\\"%.*s\\\"}\", (int)out.client_id_len, in.client_id.ptr + out.client_id_offset);",
        "outcome(rc, authcore_http_status(rc), okv);",
    ]


def op_normalize_allowed_ips(i):
    rules = i["rules"]
    if any(not isinstance(r, str) for r in rules):
        raise Unexpressible("non-string rule")
    return [
        f"const authcore_str rules[] = {{{', '.join(s(r) for r in rules) or '{NULL, 0}'}}};",
        "char out[1024]; size_t n = 0, count = 0;",
        f"authcore_result rc = authcore_normalize_allowed_ip_rules(rules, {len(rules)}, out, sizeof out, &n, &count);",
        "char okv[1100] = \"\"; if (rc == AUTHCORE_OK) nul_list_json(okv, sizeof okv, out, count);",
        "outcome(rc, authcore_http_status(rc), okv);",
    ]


def op_jwt_verify(i):
    return [
        "authcore_jwt_keyset *ks = NULL;",
        "if (authcore_jwt_keyset_new(&ks) != AUTHCORE_OK) { fail_setup(\"keyset\"); return; }",
        f"if (authcore_jwt_keyset_add_hmac(ks, AUTHCORE_JWT_HS256, (const uint8_t *){lit(i['hmacSecret'])}, {len(i['hmacSecret'].encode())}, NULL, 0, 0) != AUTHCORE_OK) {{ fail_setup(\"hmac key\"); authcore_jwt_keyset_free(ks); return; }}",
        f"authcore_jwt_validation val = {{0}}; val.now = {int(i['now'])};",
        f"const char *tok = {lit(i['token'])};",
        "char claims[4096]; size_t n = 0;",
        "authcore_result rc = authcore_jwt_verify(ks, tok, strlen(tok), &val, claims, sizeof claims, &n);",
        "authcore_jwt_keyset_free(ks);",
        "outcome(rc, authcore_http_status(rc), rc == AUTHCORE_OK ? claims : \"\");",
    ]


ALGS = {"RS256": "AUTHCORE_JWT_RS256", "ES256": "AUTHCORE_JWT_ES256", "EdDSA": "AUTHCORE_JWT_EDDSA"}


def op_jwt_add_pem(i):
    fn = "authcore_jwt_keyset_add_public_pem" if "PUBLIC KEY" in i["pem"] else "authcore_jwt_keyset_add_private_pem"
    return [
        "authcore_jwt_keyset *ks = NULL;",
        "if (authcore_jwt_keyset_new(&ks) != AUTHCORE_OK) { fail_setup(\"keyset\"); return; }",
        f"const char *pem = {lit(i['pem'])};",
        f"authcore_result rc = {fn}(ks, {ALGS[i['alg']]}, pem, strlen(pem), NULL, 0);",
        "authcore_jwt_keyset_free(ks);",
        "outcome(rc, authcore_http_status(rc), \"true\");",
    ]


def op_totp_verify(i):
    return [
        f"const char *code = {lit(i['code'])}, *secret = {lit(i['secret'])};",
        "uint64_t step = 0;",
        f"authcore_result rc = authcore_totp_verify(code, strlen(code), secret, strlen(secret), {int(i['now'])}, NULL, NULL, &step);",
        "outcome(rc, authcore_http_status(rc), \"\");",
    ]


TOTP_ALGS = {"SHA1": "AUTHCORE_TOTP_SHA1", "SHA256": "AUTHCORE_TOTP_SHA256", "SHA512": "AUTHCORE_TOTP_SHA512"}


def op_totp_generate(i):
    o = {"algorithm": "SHA1", "digits": 6, "period": 30}
    o.update(i["options"])
    if o["algorithm"] not in TOTP_ALGS:
        raise Unexpressible(f"algorithm {o['algorithm']!r} is not an AUTHCORE_TOTP_* value")
    return [
        "authcore_totp_config cfg = authcore_totp_config_default();",
        f"cfg.algorithm = {TOTP_ALGS[o['algorithm']]}; cfg.digits = {o['digits']}u; cfg.period = {o['period']}u;",
        f"const char *secret = {lit(i['secret'])};",
        "char out[16]; size_t n = 0;",
        f"authcore_result rc = authcore_totp_generate(secret, strlen(secret), {int(i['now'])}, &cfg, out, sizeof out, &n);",
        "char okv[8] = \"\"; if (rc == AUTHCORE_OK) snprintf(okv, sizeof okv, \"%zu\", n);",
        "outcome(rc, authcore_http_status(rc), okv);",
    ]


def op_jwt_add_hmac(i):
    return [
        "authcore_jwt_keyset *ks = NULL;",
        "if (authcore_jwt_keyset_new(&ks) != AUTHCORE_OK) { fail_setup(\"keyset\"); return; }",
        f"authcore_result rc = authcore_jwt_keyset_add_hmac(ks, AUTHCORE_JWT_HS256, (const uint8_t *){lit(i['secret'])}, {len(i['secret'].encode())}, NULL, 0, 0);",
        "authcore_jwt_keyset_free(ks);",
        "outcome(rc, authcore_http_status(rc), \"true\");",
    ]


def op_password_hasher(i):
    o = i["options"]
    p = {"memoryCost": 19456, "timeCost": 2, "parallelism": 1, "hashLength": 32}
    p.update(o)
    return [
        f"authcore_argon2_params p = {{{p['memoryCost']}u, {p['timeCost']}u, {p['parallelism']}u, {p['hashLength']}u}};",
        "char out[256]; size_t n = 0;",
        "authcore_result rc = authcore_password_hash_argon2id((const uint8_t *)\"pw\", 2, &p, out, sizeof out, &n);",
        "outcome(rc, authcore_http_status(rc), \"\");",
    ]


def op_bcrypt_hash(i):
    cost = i["cost"]
    if not isinstance(cost, int) or cost < 0:
        raise Unexpressible("cost is not a whole number")
    return [
        "char out[64]; size_t n = 0;",
        f"authcore_result rc = authcore_bcrypt_hash((const uint8_t *){lit(i['password'])}, {len(i['password'].encode())}, {cost}u, out, sizeof out, &n);",
        "char okv[16] = \"\"; if (rc == AUTHCORE_OK) snprintf(okv, sizeof okv, \"\\\"%.7s\\\"\", out);",
        "outcome(rc, authcore_http_status(rc), okv);",
    ]


def op_create_propagator(i):
    o = i["options"]
    port = o.get("amqpPort", 0)
    if isinstance(port, float) and math.isnan(port):
        port = 0  # JavaScript: NaN is falsy, i.e. absent; C spells absent as 0
    if not isinstance(port, (int, float)) or isinstance(port, bool) or not float(port).is_integer() or port < 0:
        raise Unexpressible("amqpPort is not a whole number")
    sink = "&sink" if o.get("withAuth") else "NULL"
    return [
        "authcore_propagation_config cfg = {"
        f".amqp_host = {s(o.get('amqpHost'))}, .amqp_port = {int(port)}u, .amqp_user = {s(o.get('amqpUser'))}, "
        f".amqp_password = {s(o.get('amqpPassword'))}, .amqp_protocol = {s(o.get('amqpProtocol'))}, "
        f".amqp_vhost = {{NULL, 0}}, .amqp_queue = {s(o.get('amqpQueue'))}, "
        f".propagation_secret = {s(o.get('propagationSecret'))}, .redis = {s(o.get('redis'))}}};",
        "authcore_credential_sink sink = {NULL, {NULL, 0}, sink_get, sink_put, sink_delete};",
        "(void)sink;",
        "authcore_propagator *p = NULL;",
        f"authcore_result rc = authcore_propagator_create(&cfg, NULL, {sink}, NULL, NULL, &p);",
        "if (p != NULL) { if (authcore_propagator_close(p) != AUTHCORE_OK) fail_setup(\"close\"); authcore_propagator_free(p); }",
        "outcome(rc, authcore_http_status(rc), \"true\");",
    ]


def op_pkce_verify(i):
    return [
        f"const char *v = {lit(i['verifier'])}, *c = {lit(i['challenge'])}, *m = {lit(i['method'])};",
        "authcore_result rc = authcore_pkce_verify(v, strlen(v), c, strlen(c), m, strlen(m), false);",
        "outcome(rc, authcore_http_status(rc), \"true\");",
    ]


def op_policy_validate(i):
    return [
        f"const char *d = {lit(i['document'])};",
        "authcore_result rc = authcore_policy_validate_document(d, strlen(d));",
        "outcome(rc, authcore_http_status(rc), \"true\");",
    ]


def op_policy_evaluate(i):
    docs = json.dumps(i["documents"], separators=(",", ":"))
    query = json.dumps(i["request"], separators=(",", ":"))
    return [
        f"const char *d = {lit(docs)}, *q = {lit(query)};",
        "authcore_policy_decision out;",
        "authcore_result rc = authcore_policy_evaluate_query(d, strlen(d), q, strlen(q), &out, NULL, 0, NULL);",
        "outcome(rc, authcore_http_status(rc), out.allowed ? \"true\" : \"false\");",
    ]


OPS = {
    "verify": op_verify,
    "normalize_allowed_ips": op_normalize_allowed_ips,
    "sign_message_pure": op_sign_message_pure,
    "jwt_verify": op_jwt_verify,
    "jwt_add_pem": op_jwt_add_pem,
    "totp_verify": op_totp_verify,
    "totp_generate": op_totp_generate,
    "jwt_add_hmac": op_jwt_add_hmac,
    "password_hasher": op_password_hasher,
    "bcrypt_hash": op_bcrypt_hash,
    "create_propagator": op_create_propagator,
    "pkce_verify": op_pkce_verify,
    "policy_validate": op_policy_validate,
    "policy_evaluate": op_policy_evaluate,
}


def ok_text(ok):
    """The expected success value as the runner compares it: compact JSON with sorted keys
    (`true` for calls that return nothing to compare)."""
    if ok is None:
        return ""
    return json.dumps(ok, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.json"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.cases, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    fns, table, skipped = [], [], []
    for n, c in enumerate(cases):
        op = c["op"]
        div = c.get("known_divergence") or {}
        divergent = "c" in div.get("languages", [])
        if op in NOT_IN_C:
            skipped.append((c["id"], NOT_IN_C[op]))
            continue
        if op not in OPS:
            raise SystemExit(f"gen_c.py: case {c['id']}: op {op} is neither run in C nor listed in NOT_IN_C")
        try:
            body = OPS[op](decode(c["input"]))
        except Unexpressible as e:
            skipped.append((c["id"], f"not expressible in C: {e}"))
            continue
        e = c["expect"]
        fns.append(f"static void case_{n}(void) {{\n    " + "\n    ".join(body) + "\n}\n")
        expect_ok = "ok" in e
        table.append(
            "    {"
            f"{lit(c['id'])}, {lit(op)}, case_{n}, {1 if expect_ok else 0}, "
            f"{lit(ok_text(e.get('ok')) if expect_ok else '')}, {lit(c_code(op, e.get('error', '')))}, "
            f"{int(e.get('status', 0))}, {lit(e['message']) if 'message' in e else 'NULL'}, "
            f"{1 if divergent else 0}, {lit(div.get('note', ''))}"
            "}"
        )
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("/* Generated by ffi-tests/parity/gen_c.py from ffi-tests/parity/cases.json; do not edit. */\n")
        f.write("\n".join(fns))
        f.write("\nstatic const parity_case CASES[] = {\n" + ",\n".join(table) + "\n};\n")
        f.write(f"#define CASE_COUNT {len(table)}\n")
        f.write("static const char *const NOT_RUN[][2] = {\n")
        f.write(",\n".join(f"    {{{lit(i)}, {lit(r)}}}" for i, r in skipped) or "    {NULL, NULL}")
        f.write("\n};\n")
        f.write(f"#define NOT_RUN_COUNT {len(skipped)}\n")


if __name__ == "__main__":
    main()

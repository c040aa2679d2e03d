"""Python runner of the auth-primitive vector files (ffi-tests/README.md schema).

Every case of ``password-bcrypt``, ``password-argon2``, ``jwt-hs256``, ``jwt-asymmetric``,
``totp-rfc6238``, ``pkce-rfc7636`` and ``policy`` runs through the public Python API
(``authcore.password``, ``authcore.jwt``, ``authcore.totp``, ``authcore.pkce``,
``authcore.policy``). An unknown op fails its case; errors are compared by ``code`` (and
``status`` when the vector has one).
"""

from __future__ import annotations

import json
import pathlib

import pytest

import authcore.jwt as jwt
import authcore.password as pw
import authcore.pkce as pkce
import authcore.policy as policy
import authcore.totp as totp

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"
FILES = (
    "password-bcrypt.json",
    "password-argon2.json",
    "jwt-hs256.json",
    "jwt-asymmetric.json",
    "totp-rfc6238.json",
    "pkce-rfc7636.json",
    "policy.json",
)
MIN_CASES = {
    "password-bcrypt.json": 30,
    "password-argon2.json": 15,
    "jwt-hs256.json": 40,
    "jwt-asymmetric.json": 15,
    "totp-rfc6238.json": 50,
    "pkce-rfc7636.json": 15,
    "policy.json": 80,
}
ERRORS = (pw.Argon2Error, pw.InvalidHashError, pw.UnsupportedParametersError, jwt.PyJWTError, totp.TotpError, pkce.OAuthError, policy.PolicyError)


def _cases():
    out = []
    for name in FILES:
        data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
        for case in data["cases"]:
            out.append(pytest.param(name, case, id=f"{name}:{case['id']}"))
    return out


CASES = _cases()


def test_every_auth_vector_file_is_run():
    counts = {}
    for p in CASES:
        counts[p.values[0]] = counts.get(p.values[0], 0) + 1
    for name, minimum in MIN_CASES.items():
        assert counts.get(name, 0) >= minimum, name


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


def run(op, i):
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
        return policy.evaluate(i["request"])
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


@pytest.mark.parametrize("file,case", CASES)
def test_vector(file, case):
    want = case["expect"]
    try:
        got = {"ok": run(case["op"], case["input"])}
    except ERRORS as e:
        got = {"error": e.code}
        if "status" in want:
            got["status"] = e.status
    assert got == want

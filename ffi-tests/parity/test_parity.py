"""Python runner of the cross-language parity cases (ffi-tests/parity/cases.json).

Every case goes through the public ``authcore`` API and its outcome (the error's ``code``,
``status`` and message) must be the one the case states. An op this runner does not know
fails; a case marked ``known_divergence`` for Python is reported (and reported as FIXED once
it agrees, until the mark goes).
"""

from __future__ import annotations

import asyncio
import json
import math
import pathlib
from typing import Any, Callable, Dict, List

import pytest

import authcore.hmac as h
import authcore.jwt as jwt
import authcore.password as password
import authcore.pkce as pkce
import authcore.policy as policy
import authcore.propagation as propagation
import authcore.realtime as realtime
import authcore.totp as totp

DOC = json.loads((pathlib.Path(__file__).with_name("cases.json")).read_text(encoding="utf-8"))
LANG = "python"


def decode(v: Any) -> Any:
    """The values JSON cannot hold: ``{"$number": "NaN"|"Infinity"|"-Infinity"}``,
    ``{"$repeat": [text, n]}``."""
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if "$number" in v:
            return float(v["$number"].replace("Infinity", "inf"))
        if "$repeat" in v:
            return v["$repeat"][0] * v["$repeat"][1]
        return {k: decode(x) for k, x in v.items()}
    return v


def sign_for(i: Dict[str, Any]) -> str:
    return h.sign_request(
        method=i["method"],
        path=i["path"],
        timestamp=float(i["headers"]["x-timestamp"]),
        nonce=i["headers"]["x-nonce"],
        body=i.get("signBody", i.get("body", "")),
        secret=h.hash_client_secret(i["client"]["secret"]),
    )


def _verify(i: Dict[str, Any]) -> Any:
    auth = h.HmacHttpAuth()
    client = i.get("client")
    if client:
        auth.clients.set_secret(
            client["id"], client["secret"], expires_at=client.get("expiresAt"), allowed_ips=client.get("allowedIps")
        )
    headers = dict(i["headers"])
    if i.get("sign"):
        headers["x-signature"] = sign_for(i)
    r = auth.verify(
        i["method"], i["path"], headers, i.get("body"), now=i["now"], max_skew_ms=i.get("maxSkewMs"), metadata=i.get("metadata")
    )
    return {"clientId": r.client_id, "timestamp": r.timestamp, "nonce": r.nonce}


def _message_auth(i: Dict[str, Any]) -> h.HmacMessageAuth:
    auth = h.HmacMessageAuth()
    client = i.get("client")
    if client:
        auth.clients.set_secret(client["id"], client["secret"], expires_at=client.get("expiresAt"))
    return auth


def _message_sign(i: Dict[str, Any]) -> Any:
    return {"clientId": _message_auth(i).sign_message(i["clientId"], i["message"]).client_id}


def _message_verify(i: Dict[str, Any]) -> Any:
    auth = _message_auth(i)
    signature = i.get("signature")
    if "signWith" in i:
        signature = auth.sign_message(i["clientId"], i["signWith"]).signature
    auth.verify_message(i["clientId"], i["message"], signature)
    return True


def _sign_message_pure(i: Dict[str, Any]) -> Any:
    return {"clientId": h.sign_message(i["clientId"], i["message"], i["secret"]).client_id}


def _regenerate_secret(i: Dict[str, Any]) -> Any:
    h.HmacHttpAuth().clients.regenerate_secret(i["clientId"])
    return True


class _Silent:
    def info(self, *a: object) -> None: ...
    def warning(self, *a: object) -> None: ...
    def error(self, *a: object) -> None: ...


def _audit_event(i: Dict[str, Any]) -> Any:
    realtime.create_audit_log_sse(log=_Silent()).on_audit_event(i["event"])
    return True


_INIT_NAMES = {
    "maxSkewMs": "max_skew_ms",
    "namespace": "namespace",
    "defaultSecretLengthBytes": "default_secret_length_bytes",
    "secretToken": "secret_token",
    "dbSeedBackupTtlSeconds": "backup_ttl_seconds",
}
_CLIENT_NAMES = {
    "secretLengthBytes": "secret_length_bytes",
    "plainSecret": "plain_secret",
    "allowedIps": "allowed_ips",
    "expiresAt": "expires_at",
}


def _init_http_auth(i: Dict[str, Any]) -> Any:
    auth = h.HmacHttpAuth(**{_INIT_NAMES[k]: v for k, v in i["options"].items()})
    return {"maxSkewMs": auth.max_skew_ms, "namespace": auth.namespace}


def _create_client(i: Dict[str, Any]) -> Any:
    auth = h.HmacHttpAuth()
    c = auth.clients.create(i["clientId"], **{_CLIENT_NAMES[k]: v for k, v in i["options"].items()})
    return {"clientId": c.client_id, "allowedIps": c.allowed_ips, "secretLength": len(c.secret)}


def _set_allowed_ips(i: Dict[str, Any]) -> Any:
    auth = h.HmacHttpAuth()
    if i.get("existing"):
        auth.clients.set_secret(i["clientId"], "parity-secret")
    auth.clients.set_allowed_ips(i["clientId"], i["allowedIps"])
    got = auth.clients.get(i["clientId"])
    assert got is not None
    return {"allowedIps": got.allowed_ips}


def _normalize_allowed_ips(i: Dict[str, Any]) -> Any:
    return h.normalize_allowed_ip_rules(i["rules"])


def _key_set(i: Dict[str, Any]) -> jwt.KeySet:
    ks = jwt.KeySet()
    if "hmacSecret" in i:
        ks.add("HS256", i["hmacSecret"])
    return ks


def _jwt_verify(i: Dict[str, Any]) -> Any:
    return _key_set(i).verify(i["token"], now=i.get("now"))


def _jwt_add_pem(i: Dict[str, Any]) -> Any:
    jwt.KeySet().add(i["alg"], i["pem"])
    return True


def _jwt_add_jwks(i: Dict[str, Any]) -> Any:
    return len(jwt.KeySet.from_jwks(i["jwks"]))


def _totp_generate(i: Dict[str, Any]) -> Any:
    return len(totp.generate(i["secret"], i["now"], **i["options"]))


def _jwt_add_hmac(i: Dict[str, Any]) -> Any:
    jwt.KeySet().add("HS256", i["secret"])
    return True


def _totp_verify(i: Dict[str, Any]) -> Any:
    return totp.verify(i["code"], i["secret"], now=i.get("now"))


_HASHER_NAMES = {
    "timeCost": "time_cost",
    "memoryCost": "memory_cost",
    "parallelism": "parallelism",
    "hashLength": "hash_len",
}


def _password_hasher(i: Dict[str, Any]) -> Any:
    ph = password.PasswordHasher(**{_HASHER_NAMES[k]: v for k, v in i["options"].items()})
    return ph.check_needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")


def _bcrypt_hash(i: Dict[str, Any]) -> Any:
    return password.bcrypt_hash(i["password"], i["cost"])[:7]


def _token_store(i: Dict[str, Any]) -> Any:
    jwt.TokenManager("https://parity.example", "parity-token-store-secret-0123456789", store=i["store"])
    return True


_PROP_NAMES = {
    "amqpHost": "amqp_host",
    "amqpPort": "amqp_port",
    "amqpUser": "amqp_user",
    "amqpPassword": "amqp_password",
    "amqpProtocol": "amqp_protocol",
    "amqpQueue": "amqp_queue",
    "propagationSecret": "propagation_secret",
    "redis": "redis",
}


def _create_propagator(i: Dict[str, Any]) -> Any:
    opts = dict(i["options"])
    kw: Dict[str, Any] = {_PROP_NAMES[k]: v for k, v in opts.items() if k != "withAuth"}
    if opts.get("withAuth"):
        kw["hmac_http_auth"] = h.HmacHttpAuth()

    async def run() -> bool:
        p = await propagation.create_propagator(**kw)
        await p.close()
        return True

    return asyncio.run(run())


def _pkce_verify(i: Dict[str, Any]) -> Any:
    return pkce.verify_pkce(i["verifier"], i["challenge"], method=i.get("method", "S256"))


def _policy_validate(i: Dict[str, Any]) -> Any:
    policy.validate_document(i["document"])
    return True


def _policy_evaluate(i: Dict[str, Any]) -> Any:
    return policy.evaluate_request({"documents": i["documents"], **i["request"]})


OPS: Dict[str, Callable[[Dict[str, Any]], Any]] = {
    "verify": _verify,
    "message_sign": _message_sign,
    "message_verify": _message_verify,
    "sign_message_pure": _sign_message_pure,
    "regenerate_secret": _regenerate_secret,
    "audit_event": _audit_event,
    "init_http_auth": _init_http_auth,
    "create_client": _create_client,
    "set_allowed_ips": _set_allowed_ips,
    "normalize_allowed_ips": _normalize_allowed_ips,
    "jwt_verify": _jwt_verify,
    "jwt_add_pem": _jwt_add_pem,
    "jwt_add_jwks": _jwt_add_jwks,
    "totp_verify": _totp_verify,
    "totp_generate": _totp_generate,
    "jwt_add_hmac": _jwt_add_hmac,
    "password_hasher": _password_hasher,
    "bcrypt_hash": _bcrypt_hash,
    "token_store": _token_store,
    "create_propagator": _create_propagator,
    "pkce_verify": _pkce_verify,
    "policy_validate": _policy_validate,
    "policy_evaluate": _policy_evaluate,
}


def outcome(op: Callable[[Dict[str, Any]], Any], i: Dict[str, Any]) -> Dict[str, Any]:
    try:
        value = op(i)
    except Exception as e:  # every error of the API carries code and status
        code = getattr(e, "code", None)
        if not isinstance(code, str):
            return {"error": f"UNEXPECTED {type(e).__name__}: {e}"}
        return {"error": code, "status": getattr(e, "status", None), "message": _message(e)}
    return {"ok": value}


def _message(e: BaseException) -> str:
    msg = getattr(e, "message", None)
    return msg if isinstance(msg, str) else str(e)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True))


def mismatches(expect: Dict[str, Any], got: Dict[str, Any]) -> List[str]:
    if "ok" in expect:
        if "ok" not in got:
            return [f"expected success, got {got.get('error')} {got.get('status')} {got.get('message')!r}"]
        return [] if _same(got["ok"], expect["ok"]) else [f"ok {got['ok']!r} != {expect['ok']!r}"]
    if "error" not in got:
        return [f"expected {expect['error']}, got success {got['ok']!r}"]
    out = []
    if got["error"] != expect["error"]:
        out.append(f"code {got['error']} != {expect['error']}")
    if "status" in expect and got.get("status") != expect["status"]:
        out.append(f"status {got.get('status')} != {expect['status']}")
    if "message" in expect and got.get("message") != expect["message"]:
        out.append(f"message {got.get('message')!r} != {expect['message']!r}")
    return out


@pytest.mark.parametrize("case", DOC["cases"], ids=[c["id"] for c in DOC["cases"]])
def test_parity_case(case: Dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    op = OPS.get(case["op"])
    assert op is not None, f"the Python runner does not know op {case['op']}"
    got = outcome(op, decode(case["input"]))
    problems = mismatches(case["expect"], got)
    divergence = case.get("known_divergence")
    if divergence and LANG in divergence.get("languages", []):
        # Reported, never a failure either way: a fix landing elsewhere must not break the
        # suite; it shows up as FIXED until the mark goes.
        with capsys.disabled():  # on the terminal, not captured
            if problems:
                print(f"\nparity: KNOWN DIVERGENCE {case['id']} (python): {'; '.join(problems)} ({divergence['note']})")
            else:
                print(f"\nparity: FIXED {case['id']} (python) agrees now: remove its known_divergence mark")
        return
    assert problems == [], f"{case['id']}: got {got!r}"

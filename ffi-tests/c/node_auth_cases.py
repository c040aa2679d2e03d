"""The C replay of the node-auth-core differential vectors: the adapter gen_vectors.py calls
for ffi-tests/vectors/differential/node-auth-core.json (what awesome-node-auth 1.9.0
answered, `expect`, and for a deliberate difference what @authcore/node-auth-core answers
instead, `kept.ours`; ffi-tests/differential/README.md).

The cases C has a call for become cases of the ops of primitive_cases.py, run by
run_vectors.c through the C API:
  * `password.hash_salt` (bcryptjs `hash(password, salt)`) -> `bcrypt_hash_with_salt`
    (authcore_bcrypt_hash_with_salt): the hash, or a refusal whose message ends with the
    original's message;
  * `password.hash_rounds` (bcryptjs `hash(password, rounds)`, a fresh salt) ->
    `bcrypt_hash_prefix` (authcore_bcrypt_hash): the recorded prefix, 60 characters, and the
    hash verifies;
  * `password.compare` (bcryptjs `compare`) and `apikey.verifyKey` (ApiKeyService's bcrypt
    compare of a raw key) -> `bcrypt_verify` (authcore_bcrypt_verify and
    authcore_password_verify);
  * `token.verifyAccessToken` / `token.verifyRefreshToken` (jsonwebtoken
    `verify(token, secret)`: HS256/384/512) -> `jwt_verify` (authcore_jwt_verify with an
    HMAC key set accepting the three): the claims, or a refusal with the recorded HTTP
    status (401). The original's refusal names no reason (TokenService's AuthError has one
    message for all), so any refusal with that status matches.

Expected values are copied, never computed. What C answers is the core's generic call, not
the Node drop-in's TokenService, so the cases kept for node-auth-core's own token rules
("Token claims": `token_use` markers) expect the original's answer, as the Python replay
does; every other kept case expects `kept.ours`.

Left out, counted by family with the reason (SKIP_REASONS): inputs C cannot express (a
non-string argument, a password with a lone surrogate: C passwords are bytes and the
original's encoding of a lone surrogate is bcryptjs's own, a cost that is not an unsigned
integer), stored hashes that are not well-formed bcrypt (bcryptjs answers `false` or throws
by its own parsing; authcore_bcrypt_verify refuses them as a class), and every op C has no
call for (NOT_FOR_C_OPS). An op that is in neither list stops the generation.
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "c-common"))
from cgen import VectorError  # noqa: E402  (ffi-tests/c-common)

FILE = "differential/node-auth-core.json"

# Ops of the file that C replays, and the primitive_cases op each becomes.
REPLAYED = {
    "password.hash_salt": "bcrypt_hash_with_salt",
    "password.hash_rounds": "bcrypt_hash_prefix",
    "password.compare": "bcrypt_verify",
    "apikey.verifyKey": "bcrypt_verify",
    "token.verifyAccessToken": "jwt_verify",
    "token.verifyRefreshToken": "jwt_verify",
}

# Ops C has no call for, with the reason.
NOT_FOR_C_OPS = {
    "token.generateTokenPair": "TokenService's pair (lifetimes, refresh-token claims, payload checks under a "
    "frozen Date.now) is the Node drop-in's; C signs a payload the caller builds (authcore_jwt_sign, "
    "replayed by jwt-hs256.json)",
    "token.generateIdProviderTokenPair": "TokenService's IdP pair and what it does to config.idProvider are the "
    "Node drop-in's; C's RS256 signing is replayed by jwt-asymmetric.json",
    "token.verifyWithJwks": "TokenService.verifyWithJwks over a JwksClient (its client calls and messages); C "
    "has no JWKS import, its PEM verification is replayed by jwt-asymmetric.json",
    "jwks.client": "JwksClient fetches over HTTP with its cache; no C API",
    "jwks.buildJwksDocument": "JwksService over a private key object of node:crypto; no C API (C writes a "
    "key set's JWKS from public PEMs: jwks_from_pem in jwt-asymmetric.json)",
    "jwks.derivePublicKey": "node:crypto KeyObject derivation; no C API",
    "jwks.publicKeyToJwk": "node:crypto KeyObject to JWK; no C API (see jwks_from_pem in jwt-asymmetric.json)",
    "jwks.jwkToPublicKey": "JWK to node:crypto KeyObject; no C API",
    "cookies.set": "Express response cookies (TokenService.setTokenCookies); no C API",
    "cookies.clear": "Express response cookies (TokenService.clearTokenCookies); no C API",
    "cookies.initCsrf": "Express response cookies (CSRF token); no C API",
    "cookies.extract": "Express request cookies; no C API",
    "totp.verify": "codes computed at replay time from the clock ({\"$totpNow\": k}), which static C data "
    "cannot carry; C's TOTP is replayed by totp-rfc6238.json",
    "totp.generateSecret": "a random secret with a QR code image (TotpStrategy); C has no QR code",
    "totp.enableDisable": "TotpStrategy's calls to a user store; no C API",
    "apikey.authenticate": "ApiKeyStrategy over a key store (store calls, audit log); no C API",
    "apikey.middleware": "createApiKeyMiddleware over Express req/res; no C API",
    "apikey.createKey": "ApiKeyService over a key store; no C API",
}

SKIP_REASONS = {
    "non-string": "a non-string argument (C takes text)",
    "surrogate": "a password with a lone surrogate (C passwords are bytes; bcryptjs encodes it its own way)",
    "cost": "a cost that is not an unsigned integer (C costs are uint32_t)",
    "malformed-hash": "a stored hash that is not well-formed bcrypt (bcryptjs answers false or throws by its own "
    "parsing; authcore_bcrypt_verify refuses it as PASSWORD_INVALID_HASH or PASSWORD_UNSUPPORTED_ALGORITHM)",
}

# Any time between the fixed times the tokens to verify carry (2001 and 2096).
VERIFY_NOW_S = 1_800_000_000

WELL_FORMED_BCRYPT = re.compile(r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")
HS = ["HS256", "HS384", "HS512"]


def _lone_surrogate(s):
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _want(c):
    """The answer C must give: the original's, or ours for a kept difference (the
    node-auth-core token rules aside, see the module docstring)."""
    kept = c.get("kept")
    if kept is None or "Token claims" in kept.get("ref", ""):
        return c["expect"]
    return kept["ours"]


def _refusal(want, where):
    """A bcryptjs refusal: any C refusal whose message ends with the original's."""
    err = want["error"]
    if not isinstance(err, dict) or not isinstance(err.get("message"), str):
        raise VectorError(f"{where}: an error needs a message")
    return {"error": "*", "message": err["message"]}


def convert(c):
    """(primitive case, None) for a case C replays, (None, skip key) for one it cannot."""
    op, inp, where = c["op"], c["input"], f"{FILE}#{c['id']}"
    want = _want(c)
    if op == "password.hash_salt":
        pw, salt = inp.get("password"), inp.get("salt")
        if not isinstance(pw, str) or not isinstance(salt, str):
            return None, "non-string"
        if _lone_surrogate(pw):
            return None, "surrogate"
        expect = {"ok": want["ok"]} if "ok" in want else _refusal(want, where)
        return {"op": "bcrypt_hash_with_salt", "input": {"password": pw, "salt": salt}, "expect": expect}, None
    if op == "password.hash_rounds":
        pw, rounds = inp.get("password"), inp.get("rounds")
        if not isinstance(pw, str):
            return None, "non-string"
        if _lone_surrogate(pw):
            return None, "surrogate"
        if isinstance(rounds, bool) or not isinstance(rounds, int) or not 0 <= rounds < 1 << 32:
            return None, "cost"
        ok = want.get("ok")
        if not isinstance(ok, dict) or ok.get("length") != 60 or ok.get("alphabet") is not True or ok.get(
            "roundTrip"
        ) is not True:
            raise VectorError(f"{where}: expected a 60-character hash that round-trips, got {want!r}")
        return {"op": "bcrypt_hash_prefix", "input": {"password": pw, "cost": rounds}, "expect": {"ok": ok["prefix"]}}, None
    if op in ("password.compare", "apikey.verifyKey"):
        pw, h = inp.get("password" if op == "password.compare" else "rawKey"), inp.get("hash")
        if not isinstance(pw, str) or not isinstance(h, str):
            return None, "non-string"
        if _lone_surrogate(pw):
            return None, "surrogate"
        if not WELL_FORMED_BCRYPT.match(h):
            return None, "malformed-hash"
        return {"op": "bcrypt_verify", "input": {"password": pw, "hash": h}, "expect": {"ok": want["ok"]}}, None
    if op in ("token.verifyAccessToken", "token.verifyRefreshToken"):
        token = inp.get("token")
        key = "accessTokenSecret" if op == "token.verifyAccessToken" else "refreshTokenSecret"
        secret = (inp.get("config") or {}).get(key)
        if not isinstance(token, str) or not isinstance(secret, str):
            return None, "non-string"
        if "ok" in want:
            expect = {"ok": want["ok"]}
        else:
            # TokenService's AuthError: one message for every reason, which is the Node
            # drop-in's; what C states is the refusal and its HTTP status.
            status = want["error"].get("statusCode") if isinstance(want["error"], dict) else None
            if not isinstance(status, int):
                raise VectorError(f"{where}: a token refusal needs its statusCode")
            expect = {"error": "*", "status": status}
        return {
            "op": "jwt_verify",
            "input": {"secret": secret, "token": token, "now": VERIFY_NOW_S, "algorithms": HS},
            "expect": expect,
        }, None
    raise VectorError(f"{where}: op {op!r} is neither replayed in C nor listed in NOT_FOR_C_OPS")


def cases(path):
    """The replayable cases (id, op and expectation in primitive_cases' form, plus the
    original's message for refusals) and the counts of what was left out:
    {op: (count, reason)}."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out, left_out = [], {}
    for c in doc["cases"]:
        op = c.get("op")
        if op in NOT_FOR_C_OPS:
            n, _ = left_out.get(op, (0, None))
            left_out[op] = (n + 1, NOT_FOR_C_OPS[op])
            continue
        if op not in REPLAYED:
            raise VectorError(f"{FILE}#{c.get('id')}: op {op!r} is neither replayed in C nor listed in NOT_FOR_C_OPS")
        case, skip = convert(c)
        if case is None:
            k = f"{op} ({skip})"
            n, _ = left_out.get(k, (0, None))
            left_out[k] = (n + 1, SKIP_REASONS[skip])
            continue
        case["id"] = c["id"]
        out.append(case)
    replayed = {}
    for c in out:
        replayed[c["op"]] = replayed.get(c["op"], 0) + 1
    # Every replayed family has cases from each seed at least (a change of the recording or of this
    # adapter that drops one fails here, not silently).
    for op in set(REPLAYED.values()):
        if replayed.get(op, 0) < len(doc["seeds"]):
            raise VectorError(f"{FILE}: only {replayed.get(op, 0)} cases of {op} replayed in C")
    return out, left_out


def report(replayed, left_out):
    """The summary gen_vectors.py prints."""
    by_op = {}
    for c in replayed:
        by_op[c["op"]] = by_op.get(c["op"], 0) + 1
    lines = [f"gen_vectors: {FILE}: {len(replayed)} cases replayed in C ("
             + ", ".join(f"{op} {n}" for op, n in sorted(by_op.items())) + "); left out:"]
    for k, (n, reason) in sorted(left_out.items()):
        lines.append(f"  {k}: {n} ({reason})")
    return "\n".join(lines)

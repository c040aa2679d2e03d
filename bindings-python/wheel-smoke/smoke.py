"""Smoke test of the built wheel, installed into a fresh venv with nothing else (no dev
requirements): every module imports, the typing files ship, and one call of each area works
on the embedded defaults. Run by scripts/python.sh; exits non-zero on any failure."""

from __future__ import annotations

import importlib
import pathlib
import sys

import authcore

pkg = pathlib.Path(authcore.__file__).parent
assert "site-packages" in str(pkg), f"not the installed wheel: {pkg}"
for f in ("py.typed", "_native.pyi"):
    assert (pkg / f).is_file(), f"{f} missing from the wheel"
modules = ["errors", "hmac", "middleware", "http_clients", "jwt", "password", "tokens", "totp", "pkce", "policy", "propagation", "realtime", "metrics", "logs", "integrations"]
for m in modules:
    importlib.import_module(f"authcore.{m}")

from authcore import hmac as h, jwt, password, pkce, totp  # noqa: E402

auth = h.HmacHttpAuth()
auth.clients.set_secret("svc", "s3cret")
hd = h.build_signed_headers("POST", "/orders", '{"a":1}', "svc", "s3cret")
v = auth.verify("POST", "/orders", hd, '{"a":1}')
assert v.client_id == "svc"
from authcore import metrics  # noqa: E402

assert 'authcore_verify_total{outcome="OK"} 1' in metrics.text()

ph = password.PasswordHasher(memory_cost=1024, time_cost=1)
assert ph.verify(ph.hash("pw"), "pw") is True

tok = jwt.encode({"sub": "u1"}, "k" * 32, algorithm="HS256")
assert jwt.decode(tok, "k" * 32, algorithms=["HS256"]) == {"sub": "u1"}
tm = jwt.TokenManager("https://auth.example.com", b"k" * 32)
pair = tm.create_token_pair("u1", "d1", "read")
assert tm.refresh(pair["refreshToken"])["familyId"] == pair["familyId"]

verifier = pkce.generate_code_verifier()
assert pkce.verify_pkce(verifier, pkce.s256_challenge(verifier))
assert len(totp.generate_secret()) >= 16

from authcore import realtime  # noqa: E402

sse = realtime.create_audit_log_sse()
stream = realtime.MemorySseStream()
stream.on_close(sse.subscribe(stream, channels=[realtime.AUDIT_LOG_CHANNEL], groups=["acct"]))
assert sse.on_audit_event({"event_type": "logout", "account_id": "acct", "metadata": None}) == 1
assert stream.body == ': connected\n\ndata: {"method":"logout","params":{"event_type":"logout","account_id":"acct","metadata":null}}\n\n'
assert sse.registry.count == 0
print(f"wheel smoke test passed ({len(modules)} modules, Python {sys.version.split()[0]})")

# Writes ffi-tests/vectors/password-argon2.json: argon2id hashes made by argon2-cffi (the
# reference the Python binding mirrors), verified by the core.
#   python3 -m venv /tmp/venv && /tmp/venv/bin/pip install argon2-cffi
#   /tmp/venv/bin/python ffi-tests/tools/gen-argon2-vectors.py
import importlib.metadata, json, os
import argon2
from argon2 import PasswordHasher, Type

cases = []
pw = {"simple": "correct horse battery staple", "unicode": "pässwörd-密码-🔑", "empty": ""}
for name, (m, t, p) in [("owasp", (19456, 2, 1)), ("cffi-default", (65536, 3, 4)), ("small", (1024, 1, 1)), ("p2", (2048, 2, 2))]:
    ph = PasswordHasher(time_cost=t, memory_cost=m, parallelism=p, hash_len=32, salt_len=16, type=Type.ID)
    for pname, password in pw.items():
        if name != "small" and pname != "simple":
            continue
        h = ph.hash(password)
        assert ph.verify(h, password)
        cases.append({"id": f"verify-{name}-{pname}", "op": "argon2_verify", "input": {"password": password, "hash": h}, "expect": {"ok": True}})
        cases.append({"id": f"verify-wrong-{name}-{pname}", "op": "argon2_verify", "input": {"password": password + "x", "hash": h}, "expect": {"ok": False}})
        cases.append({"id": f"needs-rehash-vs-owasp-{name}-{pname}", "op": "argon2_needs_rehash", "input": {"hash": h, "m": 19456, "t": 2, "p": 1},
                      "expect": {"ok": PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).check_needs_rehash(h)}})
argon2i = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.I).hash("pw")
cases.append({"id": "argon2i-unsupported", "op": "argon2_verify", "input": {"password": "pw", "hash": argon2i}, "expect": {"error": "PASSWORD_UNSUPPORTED_ALGORITHM"}})
cases.append({"id": "truncated-hash", "op": "argon2_verify", "input": {"password": "pw", "hash": cases[0]["input"]["hash"][:40]}, "expect": {"error": "PASSWORD_INVALID_HASH"}})
out = {"description": "argon2id PHC strings produced by argon2-cffi, verified by the core; needs_rehash compared with argon2-cffi's check_needs_rehash against the OWASP parameters. Ops: argon2_verify {password,hash} -> bool or error; argon2_needs_rehash {hash,m,t,p} -> bool.",
       "source": f"argon2-cffi {importlib.metadata.version('argon2-cffi')} (PasswordHasher.hash / verify / check_needs_rehash).", "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors", "password-argon2.json")
open(path, "w").write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
print(len(cases))

#!/usr/bin/env python3
"""One version scheme across the crates and packages (see CHANGELOG.md, "Versions").

- The core version is [workspace.package].version in Cargo.toml. Every crate inherits it
  (version.workspace = true), and every path dependency on a crate of the workspace names
  it as its version (publishable); the Python wheel takes it from Cargo (dynamic version); the C
  header's AUTHCORE_VERSION{,_MAJOR,_MINOR,_PATCH} and cbindgen.toml carry it (the Rust test
  version_matches_cargo_and_header checks the numbers); the npm packages @authcore/native,
  @authcore/native-linux-x64-gnu and @authcore/fuz-app-realtime carry it.
- The drop-in npm packages carry the version line of the original they replace, so an app's
  `npm:@authcore/...@^MAJOR` alias keeps resolving: @authcore/node-hmac-auth-core and
  @authcore/node-hmac-auth-core-propagation (@naskot/* 1.x), @authcore/node-auth-core
  (@nik2208/node-auth 1.x). Their dependency on @authcore/native is ^<core version>.
- @authcore/native's optional dependency on the platform package is the exact core version;
  every range between our packages is satisfied by the version in the tree; package-lock.json
  records the same versions.
Exits 1 with one line per disagreement.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
errors: list[str] = []


def err(msg: str) -> None:
    errors.append(msg)


def load_json(rel: str) -> dict:
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))


def parse(v: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", v)
    if not m:
        raise ValueError(f"not a plain semver: {v}")
    return tuple(int(x) for x in m.groups())  # type: ignore[return-value]


def caret_ok(rng: str, v: str) -> bool:
    """npm caret/exact ranges as used in this tree (^X.Y.Z or X.Y.Z)."""
    if not rng.startswith("^"):
        return rng == v
    lo, have = parse(rng[1:]), parse(v)
    if have < lo:
        return False
    if lo[0] > 0:
        return have[0] == lo[0]
    if lo[1] > 0:
        return have[:2] == lo[:2]
    return have == lo


cargo = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))
CORE = cargo["workspace"]["package"]["version"]
parse(CORE)
member_manifests = {
    member: tomllib.loads((ROOT / member / "Cargo.toml").read_text(encoding="utf-8"))
    for member in cargo["workspace"]["members"]
}
crate_names = {m["package"]["name"] for m in member_manifests.values()}
for member, manifest in member_manifests.items():
    pkg = manifest["package"]
    if pkg.get("version") != {"workspace": True}:
        err(f"{member}/Cargo.toml: version must be `version.workspace = true` (is {pkg.get('version')!r})")


def check_path_dep(where: str, name: str, spec: object) -> None:
    """A dependency on a crate of this workspace carries the core version next to its path
    (what `cargo publish` keeps), so a crate that depends on it stays publishable."""
    if not isinstance(spec, dict) or "path" not in spec:
        return
    if spec.get("version") not in (CORE, f"={CORE}", f"^{CORE}"):
        err(f"{where}: {name} = {{ path = {spec['path']!r} }} needs version = \"{CORE}\" (is {spec.get('version')!r})")


for name, spec in cargo["workspace"].get("dependencies", {}).items():
    if name in crate_names:
        check_path_dep("Cargo.toml [workspace.dependencies]", name, spec)
for member, manifest in member_manifests.items():
    for table in ("dependencies", "dev-dependencies", "build-dependencies"):
        for name, spec in manifest.get(table, {}).items():
            if name in crate_names:
                check_path_dep(f"{member}/Cargo.toml [{table}]", name, spec)

pyproject = tomllib.loads((ROOT / "bindings-python/pyproject.toml").read_text(encoding="utf-8"))
if "version" not in pyproject["project"].get("dynamic", []) or "version" in pyproject["project"]:
    err("bindings-python/pyproject.toml: the version must be dynamic (taken from Cargo by maturin)")

header = (ROOT / "bindings-c/include/authcore.h").read_text(encoding="utf-8")
for name, want in zip(("MAJOR", "MINOR", "PATCH"), CORE.split(".")):
    if f"#define AUTHCORE_VERSION_{name} {want}\n" not in header:
        err(f"authcore.h: AUTHCORE_VERSION_{name} is not {want}")
if f'#define AUTHCORE_VERSION "{CORE}"\n' not in header:
    err(f'authcore.h: AUTHCORE_VERSION is not "{CORE}"')

CORE_SCHEME = {
    "bindings-node": "@authcore/native",
    "bindings-node/npm/linux-x64-gnu": "@authcore/native-linux-x64-gnu",
    "bindings-node/packages/fuz-app-realtime": "@authcore/fuz-app-realtime",
}
# drop-in -> (original, major of the original's line)
DROP_INS = {
    "bindings-node/packages/node-hmac-auth-core": ("@naskot/node-hmac-auth-core", 1),
    "bindings-node/packages/node-hmac-auth-core-propagation": ("@naskot/node-hmac-auth-core-propagation", 1),
    "bindings-node/packages/node-auth-core": ("@nik2208/node-auth", 1),
}
versions: dict[str, str] = {}
manifests: dict[str, dict] = {}
for rel, name in CORE_SCHEME.items():
    pj = load_json(f"{rel}/package.json")
    manifests[rel] = pj
    if pj["name"] != name:
        err(f"{rel}/package.json: name {pj['name']}, expected {name}")
    versions[pj["name"]] = pj["version"]
    if pj["version"] != CORE:
        err(f"{pj['name']} is {pj['version']}, the core version is {CORE}")
for rel, (original, major) in DROP_INS.items():
    pj = load_json(f"{rel}/package.json")
    manifests[rel] = pj
    versions[pj["name"]] = pj["version"]
    if parse(pj["version"])[0] != major:
        err(f"{pj['name']} is {pj['version']}: a drop-in for {original} stays on its {major}.x line")

native = manifests["bindings-node"]
opt = native.get("optionalDependencies", {})
if opt.get("@authcore/native-linux-x64-gnu") != CORE:
    err(f"@authcore/native: optionalDependencies @authcore/native-linux-x64-gnu must be exactly {CORE}")
for rel, pj in manifests.items():
    for field in ("dependencies", "peerDependencies", "optionalDependencies"):
        for dep, rng in pj.get(field, {}).items():
            if dep not in versions:
                continue
            if not caret_ok(rng, versions[dep]):
                err(f"{pj['name']}: {field} {dep} {rng} does not take the tree's {versions[dep]}")
            if dep == "@authcore/native" and rng != f"^{CORE}":
                err(f"{pj['name']}: depends on @authcore/native {rng}, expected ^{CORE}")

lock = load_json("package-lock.json")["packages"]
for rel, pj in manifests.items():
    got = lock.get(rel, {}).get("version")
    if got != pj["version"]:
        err(f"package-lock.json: {rel} is {got}, its package.json says {pj['version']} (run npm install)")

changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
if not re.search(rf"^## {re.escape(CORE)}\b", changelog, re.M):
    err(f"CHANGELOG.md has no '## {CORE}' section")

if errors:
    print("\n".join(f"check-versions: {e}" for e in errors), file=sys.stderr)
    sys.exit(1)
drop_ins = ", ".join(f"{manifests[r]['name']} {manifests[r]['version']}" for r in DROP_INS)
print(f"check-versions: core {CORE} (crates, wheel, C header, {', '.join(CORE_SCHEME.values())}); drop-ins: {drop_ins}")

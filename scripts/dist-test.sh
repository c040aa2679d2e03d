#!/usr/bin/env bash
# `make dist-test`: the artefacts of `make dist` (target/dist/) work where they land, with
# nothing from this tree and no Rust toolchain:
#   - Python: a fresh venv installs only the wheel (plus pytest) and runs the shared vector
#     runners (ffi-tests/python, copied out of the tree with the
#     vectors), importing authcore from the venv.
#   - Python sdist: holds the core crate and Cargo.lock; a second fresh venv (cargo on PATH
#     this time) builds it with pip + maturin, then the smoke test and vector runners run.
#   - Node: scripts/npm-alias-app.sh on the npm tarballs: a new temporary app installs them
#     under the original names as aliases (@naskot/node-hmac-auth-core,
#     @naskot/node-hmac-auth-core-propagation, @nik2208/node-auth, @fuzdev/fuz_app), with
#     cargo and rustc off PATH, and exercises each package, loading the portable binary from
#     @authcore/native-linux-x64-gnu (`make test` runs the same on the debug tarballs).
#   - C: the C tarball is unpacked into a temporary prefix and scripts/c-consumer.sh builds
#     the C vector runners against it with pkg-config only (shared and static, valgrind).
# Not part of `make test` (a cold `make dist` is several release builds); run after
# `make dist`. Needs no server.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
DIST="$TARGET_DIR/dist"
[ -f "$DIST/MANIFEST.txt" ] || { echo "dist-test: no artefacts in $DIST: run make dist first" >&2; exit 1; }
VERSION="$(sed -n '1s/^authcore \([^,]*\),.*/\1/p' "$DIST/MANIFEST.txt")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/authcore-dist-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n---- dist-test: %s\n' "$*"; }

# PATH without any Rust toolchain, for the installs and the apps.
NO_RUST_PATH="$(tr ':' '\n' <<<"$PATH" | grep -v -e cargo -e rustup | paste -sd: -)"
nocargo() { env -u CARGO_HOME -u RUSTUP_HOME -u RUSTUP_TOOLCHAIN -u CARGO_TARGET_DIR PATH="$NO_RUST_PATH" "$@"; }
if nocargo sh -c 'command -v cargo || command -v rustc' >/dev/null; then
  echo "dist-test: could not take cargo off PATH" >&2
  exit 1
fi

step "Python: a fresh venv with only the wheel"
WHEEL="$(ls "$DIST"/authcore-"$VERSION"-*manylinux_2_17_x86_64*.whl)"
PYW="$WORK/py"
mkdir -p "$PYW/ffi-tests"
cp -r ffi-tests/python ffi-tests/vectors "$PYW/ffi-tests/"
nocargo "${PYTHON:-python3}" -m venv "$PYW/venv"
nocargo "$PYW/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$WHEEL"
PYTEST_PIN="$(grep -E '^(pytest|iniconfig|pluggy|packaging)==' bindings-python/requirements-dev.txt)"
# shellcheck disable=SC2086 # one requirement per word
nocargo "$PYW/venv/bin/python" -m pip install --quiet --disable-pip-version-check $PYTEST_PIN
(
  cd "$PYW"
  nocargo venv/bin/python - "$PYW/venv" "$VERSION" <<'PY'
import importlib.metadata as m, pathlib, sys
import authcore, authcore._native as n
venv = pathlib.Path(sys.argv[1]).resolve()
for mod in (authcore, n):
    assert venv in pathlib.Path(mod.__file__).resolve().parents, mod.__file__
assert m.version("authcore") == sys.argv[2], m.version("authcore")
print("authcore", m.version("authcore"), "from", pathlib.Path(n.__file__).name)
PY
  nocargo venv/bin/python "$ROOT/bindings-python/wheel-smoke/smoke.py"
  nocargo venv/bin/python -m pytest -q -p no:cacheprovider --import-mode=importlib \
    ffi-tests/python
)

step "Python: the sdist builds from source (fresh venv, cargo on PATH)"
SDIST="$DIST/authcore-$VERSION.tar.gz"
# What it holds: the binding with the workspace's core crate (a path dependency), the lock
# file and the Python sources; no other member of the workspace.
LIST="$(tar tzf "$SDIST")"
for f in pyproject.toml PKG-INFO Cargo.toml Cargo.lock core/Cargo.toml core/src/lib.rs \
  core/LICENSE bindings-python/Cargo.toml bindings-python/src/lib.rs \
  python/authcore/__init__.py python/authcore/_native.pyi; do
  grep -qx "authcore-$VERSION/$f" <<<"$LIST" || { echo "dist-test: the sdist lacks $f" >&2; exit 1; }
done
if grep -E "^authcore-$VERSION/(bindings-(node|c|uniffi)|models|fuzz)/" <<<"$LIST" | head -3 | grep .; then
  echo "dist-test: the sdist carries other workspace members" >&2
  exit 1
fi
tar -xzOf "$SDIST" "authcore-$VERSION/Cargo.toml" | grep -qx 'members = \["core", "bindings-python"\]' ||
  { echo "dist-test: the sdist's workspace is not core + bindings-python" >&2; exit 1; }
echo "sdist: $(grep -c . <<<"$LIST") entries, core crate and Cargo.lock inside"
PYS="$WORK/sdist"
mkdir -p "$PYS/ffi-tests"
cp -r ffi-tests/python ffi-tests/vectors "$PYS/ffi-tests/"
"${PYTHON:-python3}" -m venv "$PYS/venv"
# The build backend at the pinned version (maturin; what pip's build isolation would fetch),
# then pip builds the sdist with cargo (release, as for a user). The target directory is kept
# under target/ so a second run reuses the compiled dependencies (the sources compiled are the
# sdist's own: their paths differ from the tree's).
# shellcheck disable=SC2046 # one requirement per word
"$PYS/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  $(grep -E '^maturin==' scripts/dist-requirements.txt) $PYTEST_PIN
# The venv's bin/ on PATH: maturin's build hook runs the `maturin` executable found there.
PATH="$PYS/venv/bin:$PATH" CARGO_TARGET_DIR="$TARGET_DIR/sdist-build" \
  "$PYS/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-build-isolation --no-deps --no-binary authcore "$SDIST"
(
  cd "$PYS"
  venv/bin/python - "$PYS/venv" "$VERSION" <<'PY'
import importlib.metadata as m, pathlib, sys
import authcore, authcore._native as n
venv = pathlib.Path(sys.argv[1]).resolve()
assert venv in pathlib.Path(n.__file__).resolve().parents, n.__file__
assert m.version("authcore") == sys.argv[2], m.version("authcore")
print("authcore", m.version("authcore"), "built from the sdist:", pathlib.Path(n.__file__).name)
PY
  venv/bin/python "$ROOT/bindings-python/wheel-smoke/smoke.py"
  venv/bin/python -m pytest -q -p no:cacheprovider --import-mode=importlib ffi-tests/python
)

step "Node: the npm tarballs under the original names, no cargo on PATH"
bash scripts/npm-alias-app.sh "$DIST/npm"

step "C: the tarball as an installed prefix"
C_TGZ="$(ls "$DIST"/authcore-c-"$VERSION"-linux-x64-gnu.tar.gz)"
tar -C "$WORK" -xzf "$C_TGZ"
bash scripts/c-consumer.sh --prefix "$WORK/authcore-c-$VERSION-linux-x64-gnu"

echo
echo "dist-test: wheel, npm tarballs and C tarball all work from outside the tree"

#!/usr/bin/env bash
# Cross-language proofs: Node <-> Python <-> C on the same bytes, Python <-> Node
# credential propagation on RabbitMQ, and Python <-> Node
# servers/clients on one shared Redis. Runs after scripts/{c,python,node}.sh built everything.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q -p no:cacheprovider -c bindings-python/pyproject.toml ffi-tests/cross

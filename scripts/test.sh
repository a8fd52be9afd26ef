#!/usr/bin/env bash
# test.sh [PYTEST ARGS...] — lint, then the whole test suite (unit, integration, interop, security).
# Integration, interop and security tests need root (namespaces, mounts, real peers).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && [ -f .venv/.dockyard-installed ] || bash scripts/install.sh
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
exec .venv/bin/python -m pytest tests -q "$@"

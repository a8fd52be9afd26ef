#!/usr/bin/env bash
# install.sh — everything dockyard and its tests need on Debian 12, as root: apt packages
# (only those missing), then a virtualenv in .venv with dockyard installed editable.
# Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS="busybox-static python3-venv python3-dev gcc libc6-dev libseccomp2 ca-certificates curl jq
  skopeo podman buildah runc uidmap fuse-overlayfs catatonit conmon umoci
  docker.io containerd docker-registry debootstrap"

missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install: apt packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq $missing >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.dockyard-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test,bench]'
  touch "$stamp"
fi
# the init for `run --init`: a tiny static program, built next to its source (gitignored)
init_src=src/dockyard/linux/initc/dockyard-init.c
init_bin=src/dockyard/linux/initc/dockyard-init
if [ ! -x "$init_bin" ] || [ "$init_src" -nt "$init_bin" ]; then
  gcc -static -Os -Wall -o "$init_bin.tmp" "$init_src"
  strip "$init_bin.tmp"
  mv "$init_bin.tmp" "$init_bin"
fi
# precompiled bytecode keeps CLI start-up fast on the first run too
.venv/bin/python -m compileall -q src >/dev/null
echo "install: ready (.venv/bin/dockyard)" >&2

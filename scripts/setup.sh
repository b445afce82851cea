#!/usr/bin/env bash
# Retrieval Lens: install everything on a fresh machine and train the bundled example.
#   bash scripts/setup.sh            # install (apt + npm + native faiss build) + build + train examples/shop
#   bash scripts/setup.sh --no-train # install + build only
# Needs Debian/Ubuntu with Node 20+ and npm 11; apt packages are installed when missing (run as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
TRAIN=1
for a in "$@"; do
  case "$a" in
    --no-train) TRAIN=0 ;;
    *) echo "usage: bash scripts/setup.sh [--no-train]" >&2; exit 2 ;;
  esac
done
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 ))s)"; }

# Installs the Debian packages of the arguments that are missing (one apt-get update for all of them).
apt_missing() {
  local need=() p
  for p in "$@"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || need+=("$p")
  done
  [ "${#need[@]}" -gt 0 ] || return 0
  local SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
}

step "system packages: chromium (browser tests of the webview), ripgrep + build tools (code-server for the VS Code end-to-end tests); Debian's PyTorch, pytest, numpy and jsonschema (the PyTorch trainer under python/ and its tests)"
apt_missing chromium ripgrep build-essential python3 libkrb5-dev python3-torch python3-pytest python3-numpy python3-jsonschema

# code-server (its own npm install and native builds, nothing shared with the project's node_modules) installs in the
# background while the steps below run; the two-core machines this runs on have a core to spare for it.
CS_LOG=$(mktemp)
bash scripts/setup-code-server.sh >"$CS_LOG" 2>&1 &
CS_PID=$!
trap 'kill "$CS_PID" 2>/dev/null || true; rm -f "$CS_LOG"' EXIT

step "npm packages (install scripts only for packages listed in package.json allowScripts)"
export npm_config_nodedir=${npm_config_nodedir:-/usr}  # local Node headers for native builds; never download them
npm ci --no-audit --no-fund

step "faiss-node native addon"
bash scripts/setup-faiss.sh

step "build (webpack → dist/ and media/)"
npm run -s build

if [ "$TRAIN" = 1 ]; then
  step "train the bundled example (examples/shop/shop.rlens.json)"
  node bin/retrieval-lens.js train examples/shop/shop.rlens.json
  step "evaluate it with Faiss (metrics + failing queries)"
  RUN=$(ls -td examples/shop/runs/*/ | head -1)
  node bin/retrieval-lens.js eval "$RUN"
  node bin/retrieval-lens.js runs --dir examples/shop/runs | head -5
fi
step "code-server 4.100.3 for the VS Code end-to-end tests (.cache/code-server; installed beside the steps above)"
if wait "$CS_PID"; then cat "$CS_LOG"; else cat "$CS_LOG"; echo "setup: code-server install failed" >&2; exit 1; fi

step "done"

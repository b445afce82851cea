#!/bin/sh
# Installs code-server 4.100.3 (VS Code 1.100.3, the last line on Node 20) for the end-to-end tests
# (test/e2e/), from the npm registry and Debian apt only — no GitHub downloads.
#
#   bash scripts/setup-code-server.sh [PREFIX]      # default PREFIX: .cache/code-server (git-ignored)
#
# Idempotent: when PREFIX already holds a working code-server of this version (marker file
# PREFIX/.installed-<version>), it only prints the path. Takes ~130 s and ~300 MB the first time.
# Needs root for apt (chromium for Playwright, ripgrep, a C++ toolchain, python3, libkrb5-dev) and
# Node 20 with its headers in /usr/include/node (node-gyp builds against them, never downloads).
set -eu
CS_VERSION=4.100.3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${1:-$ROOT/.cache/code-server}
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
MARKER="$PREFIX/.installed-$CS_VERSION"
CS="$PREFIX/node_modules/.bin/code-server"

if [ -f "$MARKER" ] && [ -x "$CS" ]; then
  echo "code-server $CS_VERSION already installed: $CS" >&2
  exit 0
fi

export npm_config_nodedir=/usr   # use the local Node headers, never download them
export npm_config_yes=true       # node-pty's postinstall runs `npx node-gyp configure ...`
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
t() { s=$(date +%s); "$@"; echo "  [$(( $(date +%s) - s ))s] $*" >&2; }

# System packages, only those missing (apt-get update only when something must be installed).
missing=""
for p in chromium ripgrep build-essential python3 libkrb5-dev; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  t apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  t apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

cd "$PREFIX"
[ -f package.json ] || echo '{"private":true}' > package.json
t npm install -s --ignore-scripts "code-server@$CS_VERSION"
# argon2 (password hashing) is require()d at startup even with --auth none; its prebuilt download
# comes from GitHub, so build it from source.
npm_config_build_from_source=true t npm rebuild -s argon2

cd node_modules/code-server/lib/vscode
t npm install -s --omit=dev --ignore-scripts
# @vscode/ripgrep's postinstall downloads rg from GitHub unless bin/ already holds one.
mkdir -p node_modules/@vscode/ripgrep/bin
cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
t npm rebuild -s   # node-gyp builds spdlog, native-watchdog, node-pty, kerberos
# What code-server's own postinstall.sh does after `npm install`.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
cd extensions
t npm install -s --omit=dev   # built-in extensions' runtime deps (typescript; its postinstall prunes it)

"$CS" --version >/dev/null
touch "$MARKER"
echo "code-server $CS_VERSION: $CS" >&2

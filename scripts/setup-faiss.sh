#!/usr/bin/env bash
# Make `require('faiss-node')` work without internet access.
#
# faiss-node 0.5.1's own install script (prebuild-install, else git clone faiss + cmake-js) needs
# the internet, so npm runs it with allowScripts faiss-node:false. Instead, this script compiles
# faiss-node's unmodified src/faiss.cc with node-gyp against the system faiss (Debian's
# libfaiss-dev 1.7.3) and puts faiss-node.node where faiss-node's lib/index.js (`bindings`) looks.
#
# Usage (from anywhere, after `npm install`):  bash scripts/setup-faiss.sh [--force]
#   --force   rebuild even if require('faiss-node') already works.
# Idempotent: does nothing when faiss-node already loads (e.g. a prebuilt binary was installed).
# Build files go to build/faiss-node/ (git-ignored); nothing from faiss is ever committed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup-faiss: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

T_START=$(date +%s.%N)
T_STEP=$T_START
log() { echo "[setup-faiss] $*"; }
die() { echo "[setup-faiss] ERROR: $*" >&2; exit 1; }
# Print the time spent since the previous step and in total.
step_done() {
  local now; now=$(date +%s.%N)
  log "$(awk -v a="$T_STEP" -v b="$T_START" -v n="$now" -v what="$1" 'BEGIN { printf "%s: %.1fs (total %.1fs)", what, n - a, n - b }')"
  T_STEP=$now
}

# Smoke test: load faiss-node, build an inner-product index, search it.
SMOKE_JS='
const faiss = require("faiss-node");
const idx = new faiss.IndexFlatIP(2);
idx.add([1, 0, 0, 1, 0.6, 0.8]);
const r = idx.search([0, 1], 2);
if (r.labels[0] !== 1 || r.labels[1] !== 2 || Math.abs(r.distances[1] - 0.8) > 1e-6) {
  throw new Error("unexpected search result " + JSON.stringify(r));
}
'
faiss_works() { node -e "$SMOKE_JS" >/dev/null 2>&1; }

command -v node >/dev/null 2>&1 || die "node is not on PATH."
[ -f node_modules/faiss-node/package.json ] || die "node_modules/faiss-node is missing: run 'npm install' first."

if [ "$FORCE" = 0 ] && faiss_works; then
  log "require('faiss-node') already works (index build + search OK); nothing to do."
  exit 0
fi
log "require('faiss-node') does not work yet; building its native addon against the system faiss."

# ---------------------------------------------------------------- system packages
# libfaiss-dev: headers + libfaiss; openblas/lapack: BLAS/LAPACK that libfaiss calls;
# g++/make/python3: what node-gyp needs to compile.
NEEDED_PKGS=(libfaiss-dev libopenblas-dev liblapack-dev g++ make python3)
missing=()
for p in "${NEEDED_PKGS[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    # python3 / g++ / make may come from elsewhere (pyenv, a toolchain image): accept them on PATH.
    case "$p" in
      python3|g++|make) command -v "$p" >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: install faiss (with headers), OpenBLAS and LAPACK by hand."
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install: ${missing[*]}"
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package lists do not know one of the packages yet.
  need_update=0
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; fi
  done
  if [ "$need_update" = 1 ]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -q
  fi
  log "apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  step_done "system packages"
else
  step_done "system packages already installed (${NEEDED_PKGS[*]})"
fi
[ -f /usr/include/faiss/Index.h ] || die "faiss headers not found in /usr/include/faiss (is libfaiss-dev installed?)."

# ---------------------------------------------------------------- toolchain pieces
NODE_PREFIX=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
[ -f "$NODE_PREFIX/include/node/node_api.h" ] || die "Node headers not found in $NODE_PREFIX/include/node (install the nodejs headers; this script never downloads them)."

NODE_GYP=""
if command -v npm >/dev/null 2>&1; then
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" ] && NODE_GYP="$npm_dir/node_modules/node-gyp/bin/node-gyp.js"
fi
if [ -z "$NODE_GYP" ] && [ -f node_modules/node-gyp/bin/node-gyp.js ]; then
  NODE_GYP="$REPO_ROOT/node_modules/node-gyp/bin/node-gyp.js"
fi
if [ -z "$NODE_GYP" ] && command -v node-gyp >/dev/null 2>&1; then
  NODE_GYP=$(readlink -f "$(command -v node-gyp)")
fi
[ -n "$NODE_GYP" ] || die "node-gyp not found (looked in npm's bundled node_modules, ./node_modules and PATH)."

FAISS_NODE_DIR="$REPO_ROOT/node_modules/faiss-node"
FAISS_CC="$FAISS_NODE_DIR/src/faiss.cc"
[ -f "$FAISS_CC" ] || die "$FAISS_CC not found (faiss-node's sources should ship in its npm package)."
FAISS_NODE_VERSION=$(node -p 'require("./node_modules/faiss-node/package.json").version')
# node-addon-api is faiss-node's dependency: resolve it the way faiss-node would.
ADDON_API_DIR=$(node -p 'require("path").dirname(require.resolve("node-addon-api/package.json", { paths: [process.argv[1]] }))' "$FAISS_NODE_DIR") \
  || die "node-addon-api (a dependency of faiss-node) not found: run 'npm install'."
[ -f "$ADDON_API_DIR/napi.h" ] || die "napi.h not found in $ADDON_API_DIR"
COMPAT_H="$REPO_ROOT/scripts/faiss/faiss_compat.h"

log "node $(node -v) headers: $NODE_PREFIX/include/node"
log "node-gyp: $NODE_GYP ($(node "$NODE_GYP" --version))"
log "faiss-node $FAISS_NODE_VERSION, node-addon-api: $ADDON_API_DIR"
log "system faiss: $(dpkg-query -W -f='${Version}' libfaiss-dev 2>/dev/null || echo unknown)"

# ---------------------------------------------------------------- build
BUILD_DIR="$REPO_ROOT/build/faiss-node"
mkdir -p "$BUILD_DIR"
# gyp's make generator needs source paths relative to binding.gyp (absolute ones break its rules).
FAISS_CC_REL=$(node -p 'require("path").relative(process.argv[1], process.argv[2])' "$BUILD_DIR" "$FAISS_CC")
sed -e "s|@FAISS_CC@|$FAISS_CC_REL|" -e "s|@ADDON_API_DIR@|$ADDON_API_DIR|" -e "s|@COMPAT_H@|$COMPAT_H|" \
  scripts/faiss/binding.gyp.in > "$BUILD_DIR/binding.gyp"
# A minimal package.json so node-gyp treats the folder as a standalone addon project.
echo '{ "name": "faiss-node-local-build", "private": true }' > "$BUILD_DIR/package.json"

log "compiling $FAISS_CC (node-gyp rebuild, -j $(nproc))"
(
  cd "$BUILD_DIR"
  node "$NODE_GYP" rebuild --nodedir="$NODE_PREFIX" --jobs="$(nproc)" --loglevel=warn
)
step_done "compile + link"

ADDON="$BUILD_DIR/build/Release/faiss-node.node"
[ -f "$ADDON" ] || die "build finished but $ADDON is missing."
# faiss-node's lib/index.js calls require('bindings')('faiss-node'), which tries
# <module root>/build/Release/faiss-node.node among other places.
DEST_DIR="$FAISS_NODE_DIR/build/Release"
mkdir -p "$DEST_DIR"
cp "$ADDON" "$DEST_DIR/faiss-node.node"
log "installed $DEST_DIR/faiss-node.node"

# ---------------------------------------------------------------- check
if ! node -e "$SMOKE_JS"; then
  die "faiss-node.node was built but require('faiss-node') + search failed (see the error above)."
fi
step_done "check: require('faiss-node') builds an IndexFlatIP and searches it"
log "done."

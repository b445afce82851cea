#!/usr/bin/env bash
# Builds the Retrieval Lens .vsix for linux-x64 (npm run package).
#
#   bash scripts/package-vsix.sh [--out FILE] [--no-build]
#
# 1. webpack --mode production: dist/extension.js + dist/trainer.js (+ dist/cli.js) and the dashboard
#    webview (media/dashboard.js, media/codicons/).
# 2. vsce package --target linux-x64 with vsce's npm dependency packaging: the runtime node_modules
#    (tfjs + tfjs-backend-wasm with its .wasm files, faiss-node with its native build
#    build/Release/faiss-node.node, jsonc-parser, ajv, seedrandom, …) go into the package, trimmed by
#    .vscodeignore (no sources, maps, types, browser bundles, or packages already bundled by webpack).
# 3. Checks that the package holds the files the extension needs at run time.
# Default output: retrieval-lens-<version>-linux-x64.vsix in the repository root (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(node -p "require('./package.json').version")
OUT="retrieval-lens-$VERSION-linux-x64.vsix"
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: bash scripts/package-vsix.sh [--out FILE] [--no-build]" >&2; exit 2 ;;
  esac
done
t0=$(date +%s)
mkdir -p "$(dirname "$OUT")"

if [ ! -f node_modules/faiss-node/build/Release/faiss-node.node ]; then
  echo "package-vsix: node_modules/faiss-node/build/Release/faiss-node.node is missing: run bash scripts/setup-faiss.sh first" >&2
  exit 1
fi
if [ "$BUILD" = 1 ]; then
  npx webpack --mode production >/dev/null
  echo "package-vsix: webpack build done ($(( $(date +%s) - t0 ))s)" >&2
fi
for f in dist/extension.js dist/trainer.js dist/laneWorker.js dist/bm25Worker.js media/dashboard.js media/dashboard.css; do
  [ -f "$f" ] || { echo "package-vsix: $f is missing (build first)" >&2; exit 1; }
done

# No LICENSE file and no repository URL in this repository yet: package anyway, README links left relative.
npx vsce package --target linux-x64 --out "$OUT" --allow-missing-repository --no-rewrite-relative-links --no-update-package-json >&2

# The package must hold what the extension host and the forked trainer load at run time.
node - "$OUT" <<'JS'
const out = process.argv[2];
// Read the zip's central directory (no unzip tool needed).
const fs = require('fs');
const buf = fs.readFileSync(out);
const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
let count = buf.readUInt16LE(eocd + 10);
let p = buf.readUInt32LE(eocd + 16);
const names = [];
while (count-- > 0) {
  const nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
  names.push(buf.toString('utf8', p + 46, p + 46 + nameLen));
  p += 46 + nameLen + extraLen + commentLen;
}
const need = [
  'extension/package.json', 'extension/dist/extension.js', 'extension/dist/trainer.js', 'extension/dist/laneWorker.js', 'extension/dist/bm25Worker.js', 'extension/media/dashboard.js',
  'extension/media/icons/retrieval-lens.svg', 'extension/schemas/experiment.schema.json', 'extension/schemas/experiment.editor.schema.json', 'extension/schemas/run-events.schema.json',
  'extension/examples/shop/shop.rlens.json', 'extension/examples/shop/data/train.jsonl', 'extension/node_modules/faiss-node/build/Release/faiss-node.node',
  'extension/node_modules/@tensorflow/tfjs/dist/tf.node.js', 'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  'extension/node_modules/jsonc-parser/package.json', 'extension/node_modules/ajv/package.json',
];
const missing = need.filter((n) => !names.includes(n));
if (missing.length) { console.error('package-vsix: missing from the package:\n  ' + missing.join('\n  ')); process.exit(1); }
console.error(`package-vsix: ${names.length} files, ${(buf.length / 1e6).toFixed(1)} MB`);
JS
echo "package-vsix: $OUT ($(( $(date +%s) - t0 ))s)" >&2
echo "$OUT"

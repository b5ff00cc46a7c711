#!/usr/bin/env bash
# Install the Node-RED baseline of the load benchmark (benchmarks/baselines/nodered): node-red 4.x and
# pg 8.x, exactly as pinned by the committed package-lock.json (`npm ci`), into
# benchmarks/baselines/nodered/node_modules (gitignored). Node-RED 4.x, not 5.x: 5.x needs Node 22.
# Idempotent: does nothing when that lock file is already installed; once installed the flow runs offline.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$ROOT/benchmarks/baselines/nodered"
NODE_MIN_MAJOR=18  # node-red 4.x: "engines": {"node": ">=18.5"}

log() { printf '[install-node-red] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "node/npm missing: apt-get install nodejs npm"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt "$NODE_MIN_MAJOR" ]; then
    log "node $(node --version) is too old for node-red 4.x (needs >= 18.5)"; exit 1
fi

LOCK_SUM=$(cat "$DIR/package.json" "$DIR/package-lock.json" | sha1sum | cut -c1-12)
STAMP="$DIR/node_modules/.vigie-installed-$LOCK_SUM"
if [ -f "$STAMP" ] && [ -f "$DIR/node_modules/node-red/red.js" ] && [ -d "$DIR/node_modules/pg" ]; then
    exit 0
fi

log "npm ci in $DIR (node-red $(node -p "require('$DIR/package.json').dependencies['node-red']"))"
npm ci --prefix "$DIR" --no-audit --no-fund --loglevel=error >/dev/null
rm -f "$DIR"/node_modules/.vigie-installed-*
touch "$STAMP"
log "installed: $(node "$DIR/node_modules/node-red/red.js" --version 2>/dev/null | head -n1 || echo node-red)"

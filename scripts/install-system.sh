#!/usr/bin/env bash
# Install the real services Vigie runs on (Debian 12 or newer, as root or with sudo).
# Idempotent: each step checks first and does nothing when the piece is present.
#   - Mosquitto (MQTT broker) and its clients, from Debian.
#   - PostgreSQL server + contrib (btree_gist), from Debian.
#   - TimescaleDB: the distribution's postgresql-NN-timescaledb when it has one; otherwise the
#     Apache-licensed edition built from Debian's `timescaledb` source package (trixie), fetched
#     through a private sources list so the system's apt configuration is never touched.
#   - Chromium (browser tests) and poppler-utils (PDF checks).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
CACHE_DIR="${VIGIE_CACHE_DIR:-$HOME/.cache/vigie}"
TSDB_SUITE="${VIGIE_TIMESCALEDB_SUITE:-trixie}"

log() { printf '[install] %s\n' "$*" >&2; }

missing_debs() {
    local pkg out=()
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            out+=("$pkg")
        fi
    done
    echo "${out[@]:-}"
}

apt_updated=0
apt_install() {
    local want
    want=$(missing_debs "$@")
    [ -z "$want" ] && return 0
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        $SUDO apt-get update -qq
        apt_updated=1
    fi
    log "apt-get install $want"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $want >/dev/null
}

apt_install mosquitto mosquitto-clients postgresql postgresql-contrib chromium poppler-utils \
    fonts-dejavu-core ca-certificates openssl

# Debian starts a system-wide broker on 1883 after install; Vigie runs its own private brokers,
# so the packaged service is left alone (it is harmless, and not ours to stop).

PG_CONFIG=$(command -v pg_config || true)
if [ -z "$PG_CONFIG" ] || ! "$PG_CONFIG" --version >/dev/null 2>&1; then
    log "pg_config missing"; exit 1
fi
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
PG_LIBDIR=$("$PG_CONFIG" --pkglibdir)
PG_SHAREDIR=$("$PG_CONFIG" --sharedir)

have_timescaledb() {
    [ -f "$PG_LIBDIR/timescaledb.so" ] && [ -f "$PG_SHAREDIR/extension/timescaledb.control" ]
}

if have_timescaledb; then
    log "timescaledb present for PostgreSQL $PG_MAJOR"
    exit 0
fi

# 1. The distribution's own package, when it has one for this PostgreSQL.
if apt-cache show "postgresql-$PG_MAJOR-timescaledb" >/dev/null 2>&1; then
    apt_install "postgresql-$PG_MAJOR-timescaledb"
    have_timescaledb && exit 0
fi

# 2. Build the Apache edition from Debian's source package against our pg_config.
apt_install "postgresql-server-dev-$PG_MAJOR" cmake gcc make dpkg-dev
MIRROR=$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true) \
    | grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
APT_PRIV="$CACHE_DIR/apt-$TSDB_SUITE"
mkdir -p "$APT_PRIV/lists/partial" "$CACHE_DIR/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $TSDB_SUITE main" \
    > "$APT_PRIV/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_PRIV/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$APT_PRIV/lists")
cd "$CACHE_DIR/src"
if ! ls -d timescaledb-*/ >/dev/null 2>&1; then
    log "fetching Debian $TSDB_SUITE timescaledb source from $MIRROR"
    apt-get "${APT_OPTS[@]}" update -qq
    apt-get "${APT_OPTS[@]}" source --download-only timescaledb >/dev/null
    dpkg-source -x --no-check ./timescaledb_*.dsc >/dev/null
fi
SRC=$(ls -d "$CACHE_DIR"/src/timescaledb-*/ | head -n1)
log "building TimescaleDB (Apache edition) in $SRC"
cd "$SRC"
rm -rf build
./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
    -DLINTER=OFF -DCMAKE_BUILD_TYPE=Release -DPG_CONFIG="$PG_CONFIG" >/dev/null
cd build
make -j"$(nproc)" >/dev/null
$SUDO make install >/dev/null
have_timescaledb || { log "TimescaleDB build finished but the extension is not installed"; exit 1; }
log "timescaledb installed into $PG_LIBDIR"

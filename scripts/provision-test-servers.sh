#!/usr/bin/env bash
# Provision what the integration tests need on Debian 12 (bookworm), as root:
#   - PostgreSQL 15 server + dev headers, cmake and a C toolchain (Debian packages)
#   - TimescaleDB (Apache-2 edition) built from Debian 13's (trixie) source
#     package and installed into PostgreSQL 15.
#   - a copy of the PostgreSQL 15 tree without any timescaledb* file at
#     $BARE_ROOT (same relative layout: PostgreSQL finds its share and lib
#     directories relative to its binaries), from which the tests serve the
#     `postgres-bare` flavour: a real PostgreSQL on which timescaledb is not
#     even available.
# Idempotent: when everything is already installed it only prints a summary.
# Starts no server; the tests run their own throwaway clusters (initdb/pg_ctl).
set -euo pipefail

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config
TSDB_VERSION=2.19.3
# Debian 13 source package, Apache-only ("+dfsg": tsl/ removed). Lives in
# trixie main. If a later point release replaces this revision, any other
# Debian revision of the same upstream version is used instead.
TSDB_DEB_VERSION=2.19.3+dfsg-1+deb13u1
DEBIAN_MIRROR=http://deb.debian.org/debian
DEBIAN_SECURITY_MIRROR=http://deb.debian.org/debian-security
ARCHIVE_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The bare tree; test/support/global-setup.ts looks for its bindir here
# (override there with HOMEPOT_TS_TEST_BARE_BINDIR).
BARE_ROOT=/opt/homepot-ts-test/pg${PG_MAJOR}-bare

# postgresql-server-dev-15 pulls in libpq-dev -> libssl-dev; listed anyway
# because src/net/conn_ssl.c includes OpenSSL headers. dpkg-dev: apt-get source.
PKGS=(postgresql-${PG_MAJOR} postgresql-server-dev-${PG_MAJOR} cmake
      build-essential dpkg-dev libssl-dev xz-utils)

export DEBIAN_FRONTEND=noninteractive
log() { printf '[provision] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"
[[ -r /etc/debian_version ]] || die "Debian 12 (bookworm) expected"

tsdb_files() {
  local lib share
  lib=$("$PG_CONFIG" --pkglibdir) && share=$("$PG_CONFIG" --sharedir) || return 1
  printf '%s\n' "$lib/timescaledb.so" "$lib/timescaledb-${TSDB_VERSION}.so" \
    "$share/extension/timescaledb.control" \
    "$share/extension/timescaledb--${TSDB_VERSION}.sql"
}
tsdb_installed() {
  [[ -x $PG_CONFIG ]] || return 1
  local f files
  files=$(tsdb_files) || return 1
  for f in $files; do [[ -f $f ]] || return 1; done
}
summary() {
  local share
  share=$("$PG_CONFIG" --sharedir)
  log "PostgreSQL: $("$PG_CONFIG" --version) ($PG_CONFIG)"
  log "timescaledb for PG${PG_MAJOR}: $(sed -n "s/^default_version = '\(.*\)'/\1/p" \
    "$share/extension/timescaledb.control") (Apache-only build)"
  log "files: $(tsdb_files | tr '\n' ' ')"
  log "bare PostgreSQL (no timescaledb): $BARE_ROOT/usr/lib/postgresql/${PG_MAJOR}/bin"
}

# The bare tree is current when its server binary is the installed one and it
# holds no timescaledb file.
bare_current() {
  local bin=/usr/lib/postgresql/${PG_MAJOR}/bin
  [[ -x $BARE_ROOT$bin/postgres ]] && cmp -s "$bin/postgres" "$BARE_ROOT$bin/postgres" \
    && cmp -s "$bin/pg_config" "$BARE_ROOT$bin/pg_config" \
    && [[ -z $(find "$BARE_ROOT" -name 'timescaledb*' -print -quit) ]]
}
# Copy /usr/lib/postgresql/15 and /usr/share/postgresql/15 under $BARE_ROOT
# (built aside, then renamed into place), leaving out every timescaledb* file.
make_bare_tree() {
  local lib=/usr/lib/postgresql/${PG_MAJOR} share=/usr/share/postgresql/${PG_MAJOR} tmp
  if bare_current; then return 0; fi
  log "copying PostgreSQL ${PG_MAJOR} without timescaledb to $BARE_ROOT"
  mkdir -p "$(dirname "$BARE_ROOT")"
  rm -rf "$BARE_ROOT".new.*   # left by an interrupted copy
  tmp=$(mktemp -d "$BARE_ROOT.new.XXXXXX")
  mkdir -p "$tmp$(dirname "$lib")" "$tmp$(dirname "$share")"
  cp -a "$lib" "$tmp$lib"
  cp -a "$share" "$tmp$share"
  find "$tmp" -name 'timescaledb*' -exec rm -rf {} +
  chmod 755 "$tmp"
  rm -rf "$BARE_ROOT"
  mv "$tmp" "$BARE_ROOT"
  bare_current || die "bare PostgreSQL tree at $BARE_ROOT is incomplete"
}

need_build=0
tsdb_installed || need_build=1

missing=()
for p in "${PKGS[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] \
    || missing+=("$p")
done
# Trixie's Release files are signed with the trixie keys, which bookworm's
# debian-archive-keyring only ships in its later updates (2023.3+deb12u1+).
if ((need_build)) && [[ ! -e /usr/share/keyrings/debian-archive-trixie-automatic.gpg ]]; then
  missing+=(debian-archive-keyring)
fi

if ((${#missing[@]} == 0 && need_build == 0)); then
  make_bare_tree
  log "already provisioned, nothing to do"
  summary
  exit 0
fi

WORK=$(mktemp -d /tmp/provision-tsdb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"   # let apt's unprivileged _apt user download into it
LOG=$WORK/build.log
run() { # run quietly; show the log tail on failure
  "$@" >>"$LOG" 2>&1 || { local rc=$?; tail -n 60 "$LOG" >&2; die "failed ($rc): $*"; }
}
APT_Q=(-q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)

if ((${#missing[@]})); then
  log "apt-get update (system sources)"
  run apt-get "${APT_Q[@]}" update
  log "installing: ${missing[*]}"
  run apt-get "${APT_Q[@]}" install --no-install-recommends "${missing[@]}"
fi

if ((need_build)); then
  log "fetching timescaledb ${TSDB_DEB_VERSION} source from Debian trixie (private apt config)"
  # A private sources list / lists / cache: the system's apt configuration is
  # neither read for sources nor modified. Release files are verified with the
  # Debian archive keyring; apt then checks the .dsc/tarball hashes against the
  # signed Sources index, so no --allow-unauthenticated is needed.
  mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache" "$WORK/src"
  cat >"$WORK/apt/sources.list" <<EOF
deb-src [signed-by=${ARCHIVE_KEYRING}] ${DEBIAN_MIRROR} trixie main
deb-src [signed-by=${ARCHIVE_KEYRING}] ${DEBIAN_MIRROR} trixie-updates main
deb-src [signed-by=${ARCHIVE_KEYRING}] ${DEBIAN_SECURITY_MIRROR} trixie-security main
EOF
  PRIV=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache")
  run apt-get "${APT_Q[@]}" "${PRIV[@]}" update
  ver=$TSDB_DEB_VERSION
  if ! apt-cache "${PRIV[@]}" showsrc timescaledb | grep -qxF "Version: $ver"; then
    ver=$(apt-cache "${PRIV[@]}" showsrc timescaledb | sed -n 's/^Version: //p' \
      | grep -F "${TSDB_VERSION}+dfsg-" | sort -V | tail -n 1 || true)
    [[ -n $ver ]] || die "timescaledb ${TSDB_VERSION} source not found in Debian trixie"
    log "note: ${TSDB_DEB_VERSION} is gone from the archive, using ${ver}"
  fi
  # apt-get source downloads as the sandbox user _apt into the current dir.
  chown _apt "$WORK/src" 2>/dev/null || true
  (cd "$WORK/src" && run apt-get "${APT_Q[@]}" "${PRIV[@]}" -o APT::Get::Only-Source=true \
     source "timescaledb=$ver")
  srcdir=$(find "$WORK/src" -mindepth 1 -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)
  [[ -n $srcdir && -x $srcdir/bootstrap ]] || die "unpacked timescaledb source not found"
  [[ ! -e $srcdir/tsl ]] || die "unexpected tsl/ directory in $srcdir (not Apache-only)"

  log "building timescaledb ${TSDB_VERSION} (Apache-only) for PostgreSQL ${PG_MAJOR}"
  # BUILD_FORCE_REMOVE: bootstrap would otherwise prompt on stdin for an existing build dir.
  (cd "$srcdir" && export BUILD_FORCE_REMOVE=true && run ./bootstrap \
     -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
     -DPG_CONFIG="$PG_CONFIG")
  run make -C "$srcdir/build" -j"$(nproc)"
  log "installing timescaledb into $("$PG_CONFIG" --pkglibdir)"
  run make -C "$srcdir/build" install
fi

tsdb_installed || die "timescaledb files missing after install: $(tsdb_files | tr '\n' ' ')"
make_bare_tree
log "done"
summary

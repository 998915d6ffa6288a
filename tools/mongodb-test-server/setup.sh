#!/usr/bin/env bash
# Provisions Microsoft DocumentDB (PostgreSQL 18 + the documentdb extension, from Debian sid) in a
# debootstrap chroot under ROOT, then starts PostgreSQL on 127.0.0.1:PGPORT with the extension
# created. Re-running it is cheap: a chroot that finished provisioning (marker file) is reused, and
# a server that is already running is left alone. Needs root (debootstrap, mount, chroot).
#
#   tools/mongodb-test-server/setup.sh ROOT [PGPORT]        (default PGPORT 55432)
#   tools/mongodb-test-server/stop.sh ROOT                  stops it again
#
# The MongoDB wire protocol is served by tools/mongodb-test-server/wire-adapter.ts (Node), started
# by the tests' helper (server.ts) or by `main.ts serve`.
set -euo pipefail

ROOT=${1:?usage: setup.sh ROOT [PGPORT]}
PGPORT=${2:-55432}
MIRROR=${SLUICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# sid moves; pin what was tested. Override with SLUICE_DOCUMENTDB_VERSION= (empty = newest).
DOCUMENTDB_VERSION=${SLUICE_DOCUMENTDB_VERSION-1.0-0-1}
DATA=/var/lib/sluice-ddb/data
MARKER=.sluice-documentdb-ready
PG_BIN=/usr/lib/postgresql/18/bin

[ "$(id -u)" = 0 ] || { echo "setup.sh: must run as root (debootstrap, mount and chroot need it)" >&2; exit 2; }
ROOT=$(realpath -m "$ROOT")
started=$(date +%s)
say() { echo "[documentdb-setup +$(( $(date +%s) - started ))s] $*" >&2; }

mount_proc() {
  local root=$1
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
}

unmount_all_under() {
  local root=$1
  # Deepest first; a chroot left half-built by an interrupted run may still hold /proc.
  local target
  for target in $(findmnt -rn -o TARGET | grep -F "$root/" | sort -r || true); do umount -l "$target" || true; done
}

in_root() { chroot "$ROOT" "$@"; }
as_postgres() { chroot "$ROOT" su postgres -s /bin/sh -c "$1"; }

provision() {
  local partial="$ROOT.partial"
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    apt-get install -y -qq debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  fi
  unmount_all_under "$partial"
  rm -rf --one-file-system "$partial"
  mkdir -p "$(dirname "$ROOT")"
  say "debootstrap sid into $partial"
  debootstrap --variant=minbase sid "$partial" "$MIRROR" >"$partial.log" 2>&1 \
    || { tail -20 "$partial.log" >&2; exit 1; }
  # postgresql-common's postinst fails without /proc.
  mount_proc "$partial"
  trap 'unmount_all_under "$partial"' EXIT
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
  chmod +x "$partial/usr/sbin/policy-rc.d"
  local apt_opts=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0)
  # The mirror's sid Release file can be older than its Valid-Until, hence Check-Valid-Until=false.
  say "apt-get update (sid)"
  chroot "$partial" apt-get "${apt_opts[@]}" update -qq >>"$partial.log" 2>&1 || { tail -20 "$partial.log" >&2; exit 1; }
  local package=postgresql-18-documentdb
  [ -n "$DOCUMENTDB_VERSION" ] && package="$package=$DOCUMENTDB_VERSION"
  say "apt-get install $package"
  chroot "$partial" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq "$package" >>"$partial.log" 2>&1 \
    || { tail -30 "$partial.log" >&2; exit 1; }
  chroot "$partial" apt-get clean
  say "initdb"
  chroot "$partial" sh -c "mkdir -p $DATA && chown -R postgres:postgres /var/lib/sluice-ddb"
  chroot "$partial" su postgres -s /bin/sh -c "$PG_BIN/initdb -D $DATA -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8" >>"$partial.log" 2>&1 \
    || { tail -20 "$partial.log" >&2; exit 1; }
  cat >>"$partial$DATA/postgresql.conf" <<CONF
# Sluice test server (tools/mongodb-test-server/setup.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
shared_preload_libraries = 'pg_cron,pg_documentdb_core,pg_documentdb'
cron.database_name = 'postgres'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  unmount_all_under "$partial"
  trap - EXIT
  date -u +%FT%TZ >"$partial/$MARKER"
  rm -rf --one-file-system "$ROOT"
  mv "$partial" "$ROOT"
  mv "$partial.log" "$ROOT/var/log/sluice-documentdb-setup.log"
  say "provisioned $ROOT ($(du -sh --one-file-system "$ROOT" | cut -f1))"
}

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9

if [ -f "$ROOT/$MARKER" ]; then
  say "reusing the provisioned chroot at $ROOT"
else
  unmount_all_under "$ROOT"
  provision
fi

mount_proc "$ROOT"
# The port is part of the start command, so one chroot can be started on another port later.
if as_postgres "$PG_BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  say "PostgreSQL is already running"
else
  say "starting PostgreSQL on 127.0.0.1:$PGPORT"
  # 9>&-: the server must not inherit the lock, or it would hold it for as long as it runs.
  as_postgres "$PG_BIN/pg_ctl -D $DATA -l /var/lib/sluice-ddb/log -w -t 60 -o '-p $PGPORT' start" >/dev/null 9>&- \
    || { tail -20 "$ROOT/var/lib/sluice-ddb/log" >&2; exit 1; }
fi
as_postgres "PGOPTIONS='-c client_min_messages=warning' $PG_BIN/psql -h /tmp -p $PGPORT -U postgres -d postgres -qAt -c 'CREATE EXTENSION IF NOT EXISTS documentdb CASCADE'" >/dev/null
say "ready: postgres://postgres@127.0.0.1:$PGPORT/postgres"
echo "postgres://postgres@127.0.0.1:$PGPORT/postgres"

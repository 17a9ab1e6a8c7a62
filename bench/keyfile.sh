#!/usr/bin/env bash
# bench/keyfile.sh: a CLI backup with a password repository against one with a key file, beside pg_dump.
#
#   bench/keyfile.sh ROUNDS HOST:PORT DB [DB]...
#
# Per round and database, interleaved (order reversed every other round): `pg_dump -Fc` into a file,
# `pg_dump -Fp > /dev/null`, `backupkit backup` into a fresh password repository (Argon2id) and into a
# fresh key-file repository (HKDF), as bench/run.sh runs the CLI (`--jobs 2 --compression zstd:1`,
# the launcher at examples/target/backupkit or $LAUNCHER). One line per call: wall, CPU of the call with
# its children (/usr/bin/time; PostgreSQL's backends not included), peak RSS, load average. The server
# must let user postgres in without a password from 127.0.0.1 (as bench/run.sh's cluster does); PGBIN
# defaults to PostgreSQL 15's. Wall times mean something only on a quiet machine. docs/performance.md
# ("Night: key files measured") used it.
set -uo pipefail
if [ $# -lt 3 ]; then sed -n 2,14p "$0"; exit 2; fi
ROUNDS=$1 ADDR=$2
shift 2
DBS=("$@")
HOST=${ADDR%:*} PORT=${ADDR##*:}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
L=${LAUNCHER:-$ROOT/examples/target/backupkit}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export BACKUPKIT_CACHE_DIR=$W/cache
PW=bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
timed() { /usr/bin/time -f "%e %U %S %M" -o "$W/t" "$@"; }
for r in $(seq 1 "$ROUNDS"); do
    for db in "${DBS[@]}"; do
        url="postgresql://postgres@$HOST:$PORT/$db"
        BACKUPKIT_PASSWORD=$PW "$L" init --repo "$W/p-$db-$r" --compression zstd:1 >/dev/null
        "$L" init --repo "$W/k-$db-$r" --key-file "$W/key" --compression zstd:1 >/dev/null 2>&1
        sync
        sleep 2
        order=(fc fp pw kf)
        if [ $((r % 2)) = 0 ]; then order=(kf pw fp fc); fi
        for v in "${order[@]}"; do
            case $v in
                fc) timed "$PGBIN/pg_dump" -h "$HOST" -p "$PORT" -U postgres -Fc -f "$W/d.dump" "$db" ;;
                fp) timed sh -c '"$1" -h "$2" -p "$3" -U postgres -Fp "$4" > /dev/null' sh "$PGBIN/pg_dump" "$HOST" "$PORT" "$db" ;;
                pw) BACKUPKIT_PASSWORD=$PW timed "$L" backup --repo "$W/p-$db-$r" --db "$url" -o "toolDirectory=$PGBIN" \
                        --jobs 2 --compression zstd:1 --json --progress none >/dev/null 2>>"$W/err" ;;
                kf) timed "$L" backup --repo "$W/k-$db-$r" --key-file "$W/key" --db "$url" -o "toolDirectory=$PGBIN" \
                        --jobs 2 --compression zstd:1 --json --progress none >/dev/null 2>>"$W/err" ;;
            esac
            read -r wall user sys kib < "$W/t"
            printf "%s r%s %-3s wall %5.2f s  cpu %5.2f s  rss %4d MiB  load %s\n" "$db" "$r" "$v" "$wall" \
                "$(echo "$user + $sys" | bc)" $((kib / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
            rm -f "$W/d.dump"
            sleep 1
        done
    done
done
if [ -s "$W/err" ]; then echo "backupkit's stderr:"; tail -n 5 "$W/err"; fi

#!/usr/bin/env bash
# bench/ab-backup.sh: CLI backups of builds side by side, with pg_dump in the same rounds, and the server's CPU.
#
#   bench/ab-backup.sh ROUNDS PGDATA PORT "DB..." LABEL=LAUNCHER[=JAVA_OPTS] ... [fc=fc] [fp=fp]
#
# Per round and database, every variant once, the order rotated every round: a backupkit backup into a fresh
# key-file repository (`--jobs 2 --compression zstd:1`) through each LAUNCHER (a build's examples/target/backupkit,
# with BACKUPKIT_JAVA_OPTS=JAVA_OPTS when given), and with the labels fc / fp `pg_dump -Fc` into a file and
# `pg_dump -Fp > /dev/null`. One line per call: wall and CPU of the call with its children (/usr/bin/time),
# `pg` = CPU of PostgreSQL's backends during the call (the postmaster's cutime + cstime, read from /proc: run it
# as a user who may read the postmaster's /proc entry), peak RSS, load average. The server at PGDATA must let
# user postgres in from 127.0.0.1 without a password (bench/run.sh's cluster does). Medians:
# `python3 bench/ab-median.py FILE`. docs/performance.md ("jcopy", "packpool") used it.
set -uo pipefail
if [ $# -lt 5 ]; then sed -n 2,14p "$0"; exit 2; fi
R=$1 PGDATA=$2 PORT=$3
DBS=($4)
shift 4
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
head -c 32 /dev/urandom > "$W/key"
export BACKUPKIT_CACHE_DIR=$W/cache
PM=$(head -1 "$PGDATA/postmaster.pid")
pgcpu() { awk '{print $14+$15+$16+$17}' "/proc/$PM/stat"; }
V=("$@")
n=${#V[@]}
for r in $(seq 1 "$R"); do
    for db in "${DBS[@]}"; do
        for ((i = 0; i < n; i++)); do
            v=${V[$(((i + r) % n))]}
            label=${v%%=*} launcher=${v#*=} opts=""
            case "$launcher" in *=*) opts=${launcher#*=} launcher=${launcher%%=*} ;; esac
            rm -rf "$W/repo" "$W/d.dump"
            if [ "$launcher" != fc ] && [ "$launcher" != fp ]; then
                "$launcher" init --repo "$W/repo" --key-file "$W/key" --compression zstd:1 --json > /dev/null 2>&1
            fi
            sync
            sleep 1
            b0=$(pgcpu)
            case "$launcher" in
                fc) /usr/bin/time -f "%e %U %S %M" -o "$W/t" "$PGBIN/pg_dump" -h 127.0.0.1 -p "$PORT" -U postgres -Fc -f "$W/d.dump" "$db" ;;
                fp) /usr/bin/time -f "%e %U %S %M" -o "$W/t" sh -c '"$1" -h 127.0.0.1 -p "$2" -U postgres -Fp "$3" > /dev/null' sh "$PGBIN/pg_dump" "$PORT" "$db" ;;
                *) BACKUPKIT_JAVA_OPTS="$opts" /usr/bin/time -f "%e %U %S %M" -o "$W/t" "$launcher" backup --repo "$W/repo" --key-file "$W/key" \
                       --db "postgresql://postgres@127.0.0.1:$PORT/$db" -o "toolDirectory=$PGBIN" --jobs 2 --compression zstd:1 --json \
                       --progress none > /dev/null 2> "$W/err" || { echo "FAILED: $label $db"; tail -5 "$W/err"; } ;;
            esac
            sleep 0.3
            b1=$(pgcpu)
            read -r e u s m < "$W/t"
            echo "$label $db r$r wall $e cpu $(echo "$u + $s" | bc) pg $(echo "scale=2; ($b1 - $b0) / 100" | bc) rss $((m / 1024)) load $(cut -d' ' -f1 /proc/loadavg)"
        done
    done
done

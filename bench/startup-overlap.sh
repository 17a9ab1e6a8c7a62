#!/usr/bin/env bash
# When does a CLI backup's first COPY start? Interleaved calls of two launchers (before/after a change)
# against one PostgreSQL database, a fresh password repository per call.
#
#   bench/startup-overlap.sh ROUNDS DB_URL PGLOG LAUNCHER_A LAUNCHER_B
#
# The server must log every statement with millisecond timestamps at its start (log_statement = 'all',
# log_line_prefix = '%m [%p] %a '), into PGLOG. Per call one line: bench/jvm-cpu.py's figures, then
# leader = first statement of the backup's leader session ('backupkit-backup') and copy = first COPY
# statement of a 'backupkit-copy' session, both in seconds after the launcher was started.
# With DEBUG=1 the JVMs log at debug level with timestamps, and ready = when the repository was open,
# locked and indexed (only the launcher of branch keyoverlap, which opens it beside the engine, logs that
# line; main opens it before the leader connects). Data flows into the repository from max(copy, ready) on.
# Written for docs/performance.md "keyoverlap"; ROUNDS >= 5, order alternated each round. Needs GNU awk
# (mktime) and the server's log_timezone = 'UTC'. Times count from before bench/jvm-cpu.py starts, so they
# include python's start (~30 ms); pgjdbc's statements are logged as "execute <unnamed>:", psql's as
# "statement:".
set -euo pipefail
ROUNDS=$1 DB=$2 PGLOG=$3
LAUNCHERS=("$4" "$5")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export BACKUPKIT_PASSWORD="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export BACKUPKIT_CACHE_DIR=$WORK/cache
for round in $(seq 1 "$ROUNDS"); do
    order=(0 1)
    if [ $((round % 2)) = 0 ]; then order=(1 0); fi
    for i in "${order[@]}"; do
        launcher=${LAUNCHERS[$i]}
        label=$([ "$i" = 0 ] && echo A || echo B)
        repo=$WORK/repo-$round-$label
        "$launcher" init --repo "$repo" >/dev/null
        sleep 1
        log=$WORK/log-$round-$label
        opts=()
        if [ "${DEBUG:-0}" = 1 ]; then
            opts=(env "BACKUPKIT_JAVA_OPTS=-Dorg.slf4j.simpleLogger.defaultLogLevel=debug -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS -Duser.timezone=UTC")
        fi
        start=$(date +%s.%N)
        line=$(CPU_LOG=$log python3 "$ROOT/bench/jvm-cpu.py" "$label" ${opts[@]+"${opts[@]}"} "$launcher" backup --repo "$repo" \
            --db "$DB" --jobs 2 --compression zstd:3 --json)
        ready=$(awk -v s="$start" '/open, locked and indexed/ { split($1, b, ":");
            printf("%.3f", b[1] * 3600 + b[2] * 60 + b[3] - (s % 86400)); exit }' "$log")
        # statement-start log lines of this call: after $start, from the backup's own sessions
        times=$(awk -v s="$start" '
            function ts(d, t,   a, b) { split(d, a, "-"); split(t, b, ":");
                return mktime(a[1] " " a[2] " " a[3] " " b[1] " " b[2] " 0", 1) + b[3] }
            $5 ~ /^backupkit-/ && $0 ~ /(statement|execute [^:]*):/ { t = ts($1, $2); if (t < s) next;
                if (leader == "" && $5 == "backupkit-backup") leader = t - s;
                if (copy == "" && $5 == "backupkit-copy" && $0 ~ /COPY/) copy = t - s }
            END { printf("leader=%.3f\tcopy=%.3f", leader, copy) }' "$PGLOG")
        echo -e "$line\t$times${ready:+\tready=$ready}"
        rm -rf "$repo"
    done
done

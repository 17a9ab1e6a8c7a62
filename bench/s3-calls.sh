#!/usr/bin/env bash
# bench/s3-calls.sh: the CPU of S3 CLI calls, two or more builds of the CLI interleaved call by call.
#
#   bench/s3-calls.sh [--scale N] [--rounds N] NAME=DIR [NAME=DIR]...
#
# DIR holds a built CLI (backupkit launcher, backupkit.jar and its CDS archives trained for that
# directory): examples/target, or a copy whose archives were made again as the launcher's comment says,
# with the jar's absolute path as class path (a relative one yields an archive the JVM silently ignores).
# Starts its own PostgreSQL 15 cluster (pgbench at --scale, default 30) and S3Proxy on loopback (as
# bench/run.sh does), then per round and per build, in rotating order: `list` on an empty password
# repository, `backup` of pgbench into a fresh S3 repository, `restore latest --jobs 2` from S3, and per
# round one local restore as the yardstick of target 6. Each call runs under bench/jvm-cpu.py (wall,
# JVM CPU, C1/C2 CPU, peak RSS) and S3Proxy's CPU is read from /proc around it. A last call per build and
# command runs with the SDK's request log to count requests. Wall times mean something only on a quiet
# machine; CPU seconds and request counts hold under load. Results: a TSV and a summary (medians) on
# stdout; docs/performance.md ("s3http") used it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SCALE=30 ROUNDS=5
BUILDS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        *=*) BUILDS+=("$1"); shift ;;
        *) echo "usage: $0 [--scale N] [--rounds N] NAME=DIR [NAME=DIR]..." >&2; exit 2 ;;
    esac
done
[ ${#BUILDS[@]} -ge 1 ] || { echo "usage: $0 [--scale N] [--rounds N] NAME=DIR [NAME=DIR]..." >&2; exit 2; }
S3PROXY_JAR=${BENCH_S3PROXY_JAR:-$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar}
[ -f "$S3PROXY_JAR" ] || { echo "no $S3PROXY_JAR" >&2; exit 2; }

WORK=$ROOT/bench/work/s3-calls-$(date -u +%Y%m%dT%H%M%SZ)-$$
mkdir -p "$WORK/sock" "$WORK/s3/bench" "$WORK/repos" "$WORK/logs"
chmod 0755 "$ROOT/bench/work" "$WORK"
LOG=$WORK/run.log
. "$ROOT/bench/lib.sh"
chown "$PGUSER_OS" "$WORK/sock"
PORT=$(free_port 55600 55700)
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
export BACKUPKIT_PASSWORD="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export AWS_ACCESS_KEY_ID=bench-access AWS_SECRET_ACCESS_KEY="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" AWS_REGION=us-east-1
S3PROXY_PID=
cleanup() {
    local rc=$?
    if [ -n "$S3PROXY_PID" ]; then kill "$S3PROXY_PID" 2>/dev/null || true; wait "$S3PROXY_PID" 2>/dev/null || true; fi
    if [ -f "$WORK/pgdata/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop >/dev/null 2>&1 || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

init_pg_cluster "$WORK/pgdata" "$PORT" "$WORK/sock"
printf 'maintenance_work_mem = 256MB\narchive_command = %s\n' "'/bin/true'" >> "$WORK/pgdata/postgresql.conf"
touch "$WORK/postgres.log"; chown "$PGUSER_OS" "$WORK/postgres.log"
as_pg "$PGBIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgres.log" -w start >>"$LOG" 2>&1
psqlc -d postgres -c "CREATE DATABASE pgbench"
"$PGBIN/pgbench" -i -q -s "$SCALE" pgbench >>"$LOG" 2>&1
say "pgbench scale $SCALE on port $PORT"

S3PORT=$(free_port 58400 58500)
start_s3proxy "$S3PROXY_JAR" "$S3PORT" "$WORK"
s3url() { echo "s3://bench/$1?endpoint=http://127.0.0.1:$S3PORT&path-style=true&region=us-east-1"; }
s3proxy_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$S3PROXY_PID/stat"; }
TCK=$(getconf CLK_TCK)

first=${BUILDS[0]#*=}
"$first/backupkit" init --repo "$(s3url empty)" --json >>"$LOG" 2>&1
"$first/backupkit" init --repo "$WORK/repos/local" --json >>"$LOG" 2>&1
"$first/backupkit" backup --repo "$WORK/repos/local" --db "postgresql://postgres@127.0.0.1:$PORT/pgbench" \
    -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none >>"$LOG" 2>&1
"$first/backupkit" init --repo "$(s3url restore)" --json >>"$LOG" 2>&1
"$first/backupkit" backup --repo "$(s3url restore)" --db "postgresql://postgres@127.0.0.1:$PORT/pgbench" \
    -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none >>"$LOG" 2>&1
want=$(psqlc -d pgbench -At -c "SELECT count(*) FROM pgbench_accounts")

TSV=$WORK/calls.tsv
: > "$TSV"
call() { # call <build> <dir> <label> <round> ARGS...: one measured call (ARGS from the command on), a line of $TSV
    local name=$1 dir=$2 cmd=$3 round=$4; shift 4
    local before after line
    sync; sleep 1
    before=$(s3proxy_ticks)
    line=$(CPU_LOG="$WORK/logs/$name-$cmd-$round.log" python3 "$ROOT/bench/jvm-cpu.py" "$name" "$dir/backupkit" "$@")
    after=$(s3proxy_ticks)
    printf '%s\t%s\t%s\ts3proxy=%s\n' "$cmd" "$round" "$line" "$(awk -v a="$before" -v b="$after" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')" >> "$TSV"
    tail -n 1 "$TSV" >&2
}
restore_to() { # restore_to <build> <dir> <label> <round> <repo>
    local target=r_$1_$4
    call "$1" "$2" "$3" "$4" restore --repo "$5" latest --target "postgresql://postgres@127.0.0.1:$PORT/$target" \
        -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none
    local got; got=$(psqlc -d "$target" -At -c "SELECT count(*) FROM pgbench_accounts")
    [ "$got" = "$want" ] || { say "restore $1 round $4: $got rows, want $want"; exit 1; }
    psqlc -d postgres -c "DROP DATABASE $target"
}
n=${#BUILDS[@]}
for r in $(seq 1 "$ROUNDS"); do
    say "round $r/$ROUNDS"
    for ((i = 0; i < n; i++)); do
        b=${BUILDS[$(((i + r) % n))]}; name=${b%%=*}; dir=${b#*=}
        call "$name" "$dir" list "$r" list --repo "$(s3url empty)" --json
        "$dir/backupkit" init --repo "$(s3url "b-$name-$r")" --json >>"$LOG" 2>&1
        call "$name" "$dir" backup "$r" backup --repo "$(s3url "b-$name-$r")" \
            --db "postgresql://postgres@127.0.0.1:$PORT/pgbench" -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none
        restore_to "$name" "$dir" restore "$r" "$(s3url restore)"
    done
    restore_to "local" "$first" restore-local "$r" "$WORK/repos/local"
done

# request counts: one more call per build and command, with the SDK's request log (costs CPU: not timed)
say "request counts"
for b in "${BUILDS[@]}"; do
    name=${b%%=*}; dir=${b#*=}
    opt="-Dorg.slf4j.simpleLogger.log.software.amazon.awssdk.request=debug"
    BACKUPKIT_JAVA_OPTS=$opt "$dir/backupkit" list --repo "$(s3url empty)" --json > "$WORK/logs/req-$name-list.log" 2>&1
    "$dir/backupkit" init --repo "$(s3url "b-$name-req")" --json >>"$LOG" 2>&1
    BACKUPKIT_JAVA_OPTS=$opt "$dir/backupkit" backup --repo "$(s3url "b-$name-req")" \
        --db "postgresql://postgres@127.0.0.1:$PORT/pgbench" -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none \
        > "$WORK/logs/req-$name-backup.log" 2>&1
    BACKUPKIT_JAVA_OPTS=$opt "$dir/backupkit" restore --repo "$(s3url restore)" latest \
        --target "postgresql://postgres@127.0.0.1:$PORT/r_req_$name" -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none \
        > "$WORK/logs/req-$name-restore.log" 2>&1
    psqlc -d postgres -c "DROP DATABASE r_req_$name"
    for c in list backup restore; do
        printf 'requests\t%s\t%s\t%s\n' "$name" "$c" "$(grep -c 'Sending Request' "$WORK/logs/req-$name-$c.log" || true)"
    done
done

echo "# calls (TSV: command round build wall jvm sys children c1cpu c2cpu hwm rc load s3proxy)"
cat "$TSV"
echo "# medians (min-max) per command and build"
python3 - "$TSV" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    f = line.rstrip('\n').split('\t')
    cmd, build, kv = f[0], f[2], dict(x.split('=', 1) for x in f[3:])
    for k in ('wall', 'jvm', 'c1cpu', 'c2cpu', 'hwm', 's3proxy'):
        rows[(cmd, build)][k].append(float(kv[k]))
for (cmd, build), m in sorted(rows.items()):
    print(f"{cmd:14} {build:10} " + '  '.join(
        f"{k} {statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})" for k, v in m.items()))
PY

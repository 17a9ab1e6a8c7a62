#!/usr/bin/env bash
# WAL figures (issue 10, acceptance 5): can streaming (wal-receive) and asynchronous archiving
# (wal-push --async) keep up with twice the WAL rate of `pgbench -c 4`? And what does a JVM per
# segment cost (synchronous wal-push, and the --async archive_command's own start)?
#
#   bench/wal.sh [--scale N] [--seconds S] [--keep]
#
# --scale N    pgbench scale (default 100)
# --seconds S  length of each pgbench run (default 60)
# --keep       keep bench/work/wal-<run>
#
# Method. 1) rate: WAL bytes written by `pgbench -c 4 -j 2 -T S` (pg_current_wal_lsn before/after)
# per second, for every pgbench run below (the first with nothing archiving); the rate varies
# several-fold between runs, and the highest is the one capacity is judged against. 2) capacity: the same pgbench run builds a backlog while the
# archiver is held back (receiver stopped, slot keeps the WAL; or archive_command failing, .ready
# files pile up); then the mode under test starts and drains it; capacity = backlog bytes / drain
# seconds. "keeps up with 2x" means capacity >= 2 x rate. Modes: wal-receive, wal-push --async,
# wal-push (synchronous, a JVM per segment). 3) JVM cost: wall time of `backupkit --version` and of
# the --async archive_command when the segment is already archived (what PostgreSQL waits for per
# segment), each the median of 10 runs.
#
# Needs PostgreSQL 15 (PGBIN), Java 17, the CLI: the launcher examples/target/backupkit beside its jar,
# as users run it, or BENCH_JAR=path to run another build's jar with plain `java -jar`; root or a
# normal user. BENCH_JAVA_OPTS: more JVM options of the CLI (default none). Output: a markdown table
# on stdout and bench/results/wal-<date>-<sha>.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=100
SECONDS_RUN=60
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=${2:?}; shift 2 ;;
        --seconds) SECONDS_RUN=${2:?}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "wal.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
JAR=${BENCH_JAR:-$ROOT/examples/target/backupkit.jar}
JAVA=${JAVA:-java}
JOPTS=${BENCH_JAVA_OPTS:-}
LAUNCHER=$ROOT/examples/target/backupkit
# the CLI as users run it: the launcher beside the jar (its JVM options, class-data sharing), or with
# BENCH_JAR another build's jar through plain `java $BENCH_JAVA_OPTS -jar`
if [ -z "${BENCH_JAR:-}" ] && [ -x "$LAUNCHER" ]; then
    export BACKUPKIT_JAVA_OPTS=$JOPTS   # inherited by the server, so by archive_command too
    CLI=("$LAUNCHER")
else
    CLI=("$JAVA" $JOPTS -jar "$JAR")
fi
for t in "$PGBIN/initdb" "$PGBIN/pg_ctl" "$PGBIN/pgbench" "$PGBIN/psql"; do
    [ -x "$t" ] || { echo "wal.sh: $t missing: apt-get install postgresql-15 (or set PGBIN)" >&2; exit 2; }
done
[ -f "$JAR" ] || { echo "wal.sh: $JAR missing: ./mvnw -B -q package -DskipTests" >&2; exit 2; }
command -v python3 >/dev/null || { echo "wal.sh: python3 missing" >&2; exit 2; }

RUN=$(date -u +%Y%m%dT%H%M%S)
WORK=$ROOT/bench/work/wal-$RUN
mkdir -p "$WORK"
AS=()
# the CLI runs as the server's user too (archive_command does), so everyone can write the repository;
# setpriv execs, so $! of a background job is the JVM itself
if [ "$(id -u)" = 0 ]; then AS=(setpriv --reuid=postgres --regid=postgres --init-groups); fi
PGDATA=$WORK/data
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
[ "$(id -u)" = 0 ] && chown postgres "$WORK"

cleanup() {
    [ -n "${RECEIVER_PID:-}" ] && kill "$RECEIVER_PID" 2>/dev/null || true
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { echo "[wal.sh $(date -u +%T)] $*" >&2; }
psqlq() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
lsn() { psqlq "SELECT pg_current_wal_lsn()"; }
lsn_diff() { psqlq "SELECT pg_wal_lsn_diff('$1', '$2')::bigint"; }
now() { python3 -c 'import time; print(time.time())'; }
secs() { python3 -c "print(round($2 - $1, 3))"; }
bk() { "${AS[@]}" "${CLI[@]}" "$@"; }

log "cluster in $PGDATA (port $PORT), pgbench scale $SCALE"
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync >/dev/null
cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$WORK'
wal_level = replica
max_wal_senders = 10
max_wal_size = '16GB'
checkpoint_timeout = '30min'
archive_mode = on
archive_command = '/bin/false'
CONF
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w start >/dev/null
"$PGBIN/pgbench" -q -i -s "$SCALE" >/dev/null 2>&1

REPO=$WORK/repo
KEY=$WORK/key
bk init --repo "$REPO" --key-file "$KEY" >/dev/null 2>&1
SYSID=$(psqlq "SELECT system_identifier FROM pg_control_system()")

# every pgbench run records its WAL rate: it varies several-fold between runs (full-page images after
# a checkpoint, the slot's and the archiver's own reads), and the verdict takes the highest
RATES=()
pgbench_run() {
    local a t0 t1 b
    a=$(lsn); t0=$(now)
    "$PGBIN/pgbench" -c 4 -j 2 -T "$SECONDS_RUN" -n >/dev/null 2>&1
    t1=$(now); b=$(lsn)
    RATES+=("$(python3 -c "print($(lsn_diff "$b" "$a") / ($t1 - $t0))")")
    log "    pgbench -c 4 wrote $(python3 -c "print(round(${RATES[-1]}/1048576,1))") MiB/s of WAL"
}
ready_count() { find "$PGDATA/pg_wal/archive_status" -name '*.ready' | wc -l; }

# 1) the WAL rate of pgbench -c 4, nothing archiving (archive_command fails: .ready files wait)
log "1/4 WAL rate of pgbench -c 4 for ${SECONDS_RUN}s"
psqlq "SELECT pg_switch_wal()" >/dev/null
pgbench_run

# 2) streaming: backlog in a slot, then wal-receive drains it
log "2/4 wal-receive: backlog, then drain"
# not through bk(): $! must be the JVM's pid, not a subshell's
"${AS[@]}" "${CLI[@]}" wal-receive --repo "$REPO" --key-file "$KEY" --db "postgresql://postgres@127.0.0.1:$PORT/postgres" \
    --slot bench --create-slot > "$WORK/receive-1.log" 2>&1 &
RECEIVER_PID=$!
until psqlq "SELECT active FROM pg_replication_slots WHERE slot_name = 'bench'" 2>/dev/null | grep -q t; do sleep 0.2; done
kill "$RECEIVER_PID"; wait "$RECEIVER_PID" || true; RECEIVER_PID=
until psqlq "SELECT active FROM pg_replication_slots WHERE slot_name = 'bench'" | grep -q f; do sleep 0.2; done
S0=$(psqlq "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'bench'")
pgbench_run
psqlq "SELECT pg_switch_wal()" >/dev/null
TARGET=$(lsn)
BACKLOG_RECEIVE=$(lsn_diff "$TARGET" "$S0")
T0=$(now)
"${AS[@]}" "${CLI[@]}" wal-receive --repo "$REPO" --key-file "$KEY" --db "postgresql://postgres@127.0.0.1:$PORT/postgres" \
    --slot bench > "$WORK/receive-2.log" 2>&1 &
RECEIVER_PID=$!
until [ "$(psqlq "SELECT pg_wal_lsn_diff(restart_lsn, '$TARGET') >= 0 FROM pg_replication_slots WHERE slot_name = 'bench'")" = t ]; do sleep 0.2; done
T1=$(now)
kill "$RECEIVER_PID"; wait "$RECEIVER_PID" || true; RECEIVER_PID=
until psqlq "SELECT active FROM pg_replication_slots WHERE slot_name = 'bench'" | grep -q f; do sleep 0.2; done
CAP_RECEIVE=$(python3 -c "print($BACKLOG_RECEIVE / ($T1 - $T0))")
psqlq "SELECT pg_drop_replication_slot('bench')" >/dev/null
log "    drained $(python3 -c "print(round($BACKLOG_RECEIVE/1048576))") MiB in $(secs "$T0" "$T1") s"

set_archive_command() {
    psqlq "ALTER SYSTEM SET archive_command = '$1'" >/dev/null
    psqlq "SELECT pg_reload_conf()" >/dev/null
}
drain_archive() { # <archive_command> -> prints "bytes seconds segments"
    local n; n=$(ready_count)
    local t0; t0=$(now)
    set_archive_command "$1"
    until [ "$(ready_count)" = 0 ]; do sleep 0.2; done
    local t1; t1=$(now)
    set_archive_command "/bin/false"
    echo "$((n * 16777216)) $(secs "$t0" "$t1") $n"
}

# 3) asynchronous archiving: .ready backlog, then wal-push --async drains it
log "3/4 wal-push --async: backlog, then drain"
pgbench_run
psqlq "SELECT pg_switch_wal()" >/dev/null
read -r BACKLOG_ASYNC T_ASYNC N_ASYNC <<<"$(drain_archive "${CLI[*]} wal-push --async --repo $REPO --key-file $KEY %p")"
CAP_ASYNC=$(python3 -c "print($BACKLOG_ASYNC / $T_ASYNC)")
log "    drained $N_ASYNC segments in $T_ASYNC s"

# 4) synchronous archiving (a JVM per segment), then the JVM's own cost
log "4/4 wal-push (synchronous): backlog of ${SECONDS_RUN}s, then drain"
pgbench_run
psqlq "SELECT pg_switch_wal()" >/dev/null
read -r BACKLOG_SYNC T_SYNC N_SYNC <<<"$(drain_archive "${CLI[*]} wal-push --repo $REPO --key-file $KEY %p")"
CAP_SYNC=$(python3 -c "print($BACKLOG_SYNC / $T_SYNC)")
log "    drained $N_SYNC segments in $T_SYNC s"

median_of_10() { # <command...> -> median wall seconds
    python3 - "$@" <<'PY'
import subprocess, sys, time
t = []
for _ in range(10):
    s = time.time(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); t.append(time.time() - s)
t.sort(); print(round((t[4] + t[5]) / 2, 3))
PY
}
JVM_VERSION=$(median_of_10 "${AS[@]}" "${CLI[@]}" --version)
# the --async archive_command when its segment is already archived: start, read the marker, exit
SEG=$(ls "$PGDATA/pg_wal/archive_status" | grep -E '^[0-9A-F]{24}\.done$' | tail -1 | cut -c1-24)
SPOOL=$WORK/jvmcost-spool
mkdir -p "$SPOOL"
[ "$(id -u)" = 0 ] && chown postgres "$SPOOL"
SHA=$(sha256sum "$PGDATA/pg_wal/$SEG" | cut -d' ' -f1)
JVM_ASYNC=$(python3 - "$SPOOL" "$PGDATA" "$SEG" "$SHA" "${AS[*]}" "${CLI[@]}" <<'PY'
import subprocess, sys, time
spool, pgdata, seg, sha, as_user = sys.argv[1:6]
cli = sys.argv[6:]
t = []
for _ in range(10):
    open(f"{spool}/{seg}.ok", "w").write(sha + " 16777216\n")
    s = time.time()
    subprocess.run([*as_user.split(), *cli, "wal-push", "--async", "--spool", spool, "--pgdata", pgdata, f"pg_wal/{seg}"],
                   cwd=pgdata, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t.append(time.time() - s)
t.sort(); print(round((t[4] + t[5]) / 2, 3))
PY
)

RATE=$(IFS=,; python3 -c "print(max([${RATES[*]}]))")
mib() { python3 -c "print(round($1/1048576, 1))"; }
ratio() { python3 -c "print(round($1/$RATE, 2))"; }
verdict() { python3 -c "print('yes' if $1 >= 2 * $RATE else 'NO')"; }
SHA_SHORT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
OUT=$ROOT/bench/results/wal-$(date -u +%Y%m%d)-$SHA_SHORT.md
{
    echo "## WAL figures — scale $SCALE, pgbench -c 4 -j 2 for ${SECONDS_RUN}s, $(nproc) CPUs, $(date -u +%F)"
    echo
    echo "pgbench -c 4 wrote **$(mib "$RATE") MiB/s** of WAL at most here (its $(echo "${#RATES[@]}") runs: $(for r in "${RATES[@]}"; do printf '%s ' "$(mib "$r")"; done)MiB/s; the first with nothing archiving); the ratios below are against the highest."
    echo
    echo "| mode | backlog | drain time | capacity | × pgbench -c 4 | keeps up with 2× |"
    echo "|---|---|---|---|---|---|"
    echo "| wal-receive (streaming) | $(mib "$BACKLOG_RECEIVE") MiB | $(python3 -c "print(round($BACKLOG_RECEIVE/$CAP_RECEIVE,1))") s | $(mib "$CAP_RECEIVE") MiB/s | $(ratio "$CAP_RECEIVE") | $(verdict "$CAP_RECEIVE") |"
    echo "| wal-push --async | $N_ASYNC segments | $T_ASYNC s | $(mib "$CAP_ASYNC") MiB/s | $(ratio "$CAP_ASYNC") | $(verdict "$CAP_ASYNC") |"
    echo "| wal-push (a JVM per segment) | $N_SYNC segments | $T_SYNC s | $(mib "$CAP_SYNC") MiB/s | $(ratio "$CAP_SYNC") | $(verdict "$CAP_SYNC") |"
    echo
    echo "JVM per call (median of 10): \`backupkit --version\` $JVM_VERSION s; \`wal-push --async\` for a segment already archived $JVM_ASYNC s;"
    echo "synchronous \`wal-push\` $(python3 -c "print(round($T_SYNC/max($N_SYNC,1),3))") s per segment (JVM start, key file, compress, seal, fsync)."
} | tee "$OUT"
log "written $OUT"

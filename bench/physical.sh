#!/usr/bin/env bash
# Physical backups and point-in-time restore: backupkit vs pgBackRest and vs the hand-run procedure,
# side by side on one pgbench cluster (acceptance 5 of issue 10).
#
#   bench/physical.sh [--scale N] [--quick] [--rounds R] [--blocks "65536 131072 …"] [--keep]
#
# --scale N    pgbench scale (default 100, ~1.5 GB)
# --quick      scale 10 and 1 round (a smoke run: figures are not for comparison)
# --rounds R   rounds of every timed step (default 3); tools alternate order per round
# --blocks L   fixed block sizes to measure for the second base backup (0 = content-defined chunks);
#              default "65536 131072 262144 1048576 0"
# --keep       keep bench/work/<run>
#
# Measures:
#  1. base backup wall time: backupkit backup --physical (fresh repository each round, so a full
#     backup) vs pgbackrest --type=full (compress-type=zst, process-max=2);
#  2. a second base backup after ~1 % clustered change (UPDATE of 1 % of pgbench_accounts by key
#     range): bytes backupkit stores per block size vs the size of pgBackRest's incremental;
#  3. restore to a point in time: backupkit restore --pgdata --to-time + pg_ctl start until promoted,
#     vs the hand-run procedure (untar a pg_basebackup tar, copy the WAL into pg_wal, recovery
#     settings, pg_ctl start until promoted). WAL reaches the backupkit repository through
#     `backupkit wal-push`; this part is skipped when the jar has no wal-push command.
#
# Needs: PostgreSQL 15 server binaries (PGBIN), pgbackrest, GNU time, java 17, jq, and the CLI:
# the launcher examples/target/backupkit beside its jar, as users run it (BENCH_JAVA_OPTS: more JVM
# options for it), or BENCH_JAR=path to run another build's jar with `java ${BENCH_JAVA_OPTS--Xmx512m} -jar`.
# Runs as root (PostgreSQL as user postgres) or as a normal user.
# Output: a markdown table on stdout, also in bench/results/physical-<date>-<shortsha>.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=
ROUNDS=3
QUICK=0
KEEP=0
BLOCKS="65536 131072 262144 1048576 0"
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=${2:?--scale needs a number}; shift 2 ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --blocks) BLOCKS=${2:?--blocks needs a list}; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "physical.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
if [ "$QUICK" = 1 ]; then SCALE=${SCALE:-10}; ROUNDS=1; fi
SCALE=${SCALE:-100}
case "$SCALE$ROUNDS" in *[!0-9]*) echo "physical.sh: --scale and --rounds take numbers" >&2; exit 2 ;; esac

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
JAR=${BENCH_JAR:-$ROOT/examples/target/backupkit.jar}
JAVA_OPTS=${BENCH_JAVA_OPTS--Xmx512m}
missing=()
for t in "$PGBIN/initdb" "$PGBIN/pgbench" "$PGBIN/pg_basebackup" pgbackrest java jq; do
    command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || missing+=("$t")
done
[ -f "$JAR" ] || missing+=("$JAR (mvn -B -q package -DskipTests)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "physical.sh: missing (nothing was installed): ${missing[*]}" >&2
    exit 2
fi
. "$ROOT/bench/lib.sh"
SECS_DECIMALS=2

RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)-$$
WORK=$ROOT/bench/work/physical-$RUN_ID
mkdir -p "$WORK"
chmod 0755 "$ROOT/bench/work" "$WORK"
PGDATA=$WORK/pgdata
SOCK=$WORK/sock
SPOOL=$WORK/wal-spool
PGB=$WORK/pgbackrest
mkdir -p "$SOCK" "$SPOOL" "$PGB/repo" "$PGB/log" "$PGB/lock" "$WORK/restore"
chown -R "$PGUSER_OS" "$SOCK" "$SPOOL" "$PGB" "$WORK/restore"
LOG=$WORK/run.log
RESULTS=$WORK/results.tsv
: > "$RESULTS"
PORT=$(free_port 56432 56532) || { echo "physical.sh: no free port" >&2; exit 1; }
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
unset PGPASSWORD PGDATABASE
export BACKUPKIT_PASSWORD="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

cleanup() {
    local rc=$?
    for d in "$PGDATA" "$WORK"/restore/*; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
    done
    if [ "$KEEP" = 1 ]; then echo "physical.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LAUNCHER=$ROOT/examples/target/backupkit
# the CLI as users run it: the launcher beside the jar (its JVM options, class-data sharing, and
# BENCH_JAVA_OPTS added last), or with BENCH_JAR another build's jar through plain `java -jar`
if [ -z "${BENCH_JAR:-}" ] && [ -x "$LAUNCHER" ]; then
    bk() { BACKUPKIT_JAVA_OPTS="${BENCH_JAVA_OPTS:-}" "$LAUNCHER" "$@"; }
else
    bk() { java $JAVA_OPTS -jar "$JAR" "$@"; }
fi
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RESULTS"; } # figure, tool, round, value

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "scale $SCALE, $ROUNDS round(s), blocks [$BLOCKS], work dir $WORK, port $PORT, load $LOAD_START"
init_pg_cluster "$PGDATA" "$PORT" "$SOCK"
echo "archive_command = 'cp %p $SPOOL/%f.tmp && mv $SPOOL/%f.tmp $SPOOL/%f'" >> "$PGDATA/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGB/log/postgres.log" -w start >>"$LOG" 2>&1
cat > "$PGB/pgbackrest.conf" <<EOF
[global]
repo1-path=$PGB/repo
repo1-retention-full=9
log-path=$PGB/log
lock-path=$PGB/lock
log-level-console=warn
compress-type=zst
process-max=2
start-fast=y
archive-check=n

[bench]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=$SOCK
EOF
chown "$PGUSER_OS" "$PGB/pgbackrest.conf"
PGBR=(pgbackrest "--config=$PGB/pgbackrest.conf" --stanza=bench)
as_pg "${PGBR[@]}" stanza-create >>"$LOG" 2>&1

say "pgbench database, scale $SCALE"
psqlc -d postgres -c "CREATE DATABASE pgbench"
"$PGBIN/pgbench" -i -q -s "$SCALE" pgbench >>"$LOG" 2>&1
psqlc -d postgres -c "VACUUM ANALYZE" -c "CHECKPOINT"
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"

# ---------------------------------------------------------------- 1. base backup wall time
for r in $(seq 1 "$ROUNDS"); do
    order="backupkit pgbackrest"
    [ $((r % 2)) = 0 ] && order="pgbackrest backupkit"
    for tool in $order; do
        sync; sleep 2
        if [ "$tool" = backupkit ]; then
            repo=$WORK/repo-full-$r
            bk init --repo "$repo" >>"$LOG" 2>&1
            s=$(now_ns); bk backup --physical --repo "$repo" --db "$URL" --json > "$WORK/full-$r.json" 2>>"$LOG"; e=$(now_ns)
            record "full backup wall (s)" backupkit "$r" "$(secs "$s" "$e")"
            record "full backup stored (MiB)" backupkit "$r" "$(jq '.bytesStored / 1048576 | floor' "$WORK/full-$r.json")"
            rm -rf "$repo"
        else
            s=$(now_ns); as_pg "${PGBR[@]}" --type=full backup >>"$LOG" 2>&1; e=$(now_ns)
            record "full backup wall (s)" pgbackrest "$r" "$(secs "$s" "$e")"
            record "full backup stored (MiB)" pgbackrest "$r" \
                "$(as_pg "${PGBR[@]}" info --output=json | jq '.[0].backup[-1].info.repository.delta / 1048576 | floor')"
        fi
        say "round $r: $tool full backup done"
    done
done

# ---------------------------------------------------------------- 2. second base backup after ~1 % clustered change
say "first base backups (one repository per block size)"
for b in $BLOCKS; do
    bk init --repo "$WORK/repo-block-$b" >>"$LOG" 2>&1
    bk backup --physical --repo "$WORK/repo-block-$b" --db "$URL" -o blockSize="$b" --json > "$WORK/first-$b.json" 2>>"$LOG"
done
as_pg "${PGBR[@]}" --type=full backup >>"$LOG" 2>&1
ROWS=$((SCALE * 100000))
CHANGED=$((ROWS / 100))
FROM=$((ROWS / 3))
say "changing $CHANGED of $ROWS accounts (aid $FROM..$((FROM + CHANGED - 1)))"
psqlc -d pgbench -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN $FROM AND $((FROM + CHANGED - 1))" \
    -c "CHECKPOINT"
for b in $BLOCKS; do
    bk backup --physical --repo "$WORK/repo-block-$b" --db "$URL" -o blockSize="$b" --json > "$WORK/second-$b.json" 2>>"$LOG"
    label=$([ "$b" = 0 ] && echo "content-defined" || echo "fixed $((b / 1024)) KiB")
    record "second backup stored (MiB)" "backupkit $label" 1 "$(jq '.bytesStored / 1048576 * 10 | floor / 10' "$WORK/second-$b.json")"
    record "first backup stored (MiB)" "backupkit $label" 1 "$(jq '.bytesStored / 1048576 | floor' "$WORK/first-$b.json")"
    rm -rf "$WORK/repo-block-$b"
done
as_pg "${PGBR[@]}" --type=incr backup >>"$LOG" 2>&1
record "second backup stored (MiB)" "pgbackrest incr" 1 \
    "$(as_pg "${PGBR[@]}" info --output=json | jq '.[0].backup[-1].info.repository.delta / 1048576 * 10 | floor / 10')"

# ---------------------------------------------------------------- 3. restore to a point in time
if bk --help 2>/dev/null | grep -qw wal-push; then
    say "point in time: base backups, then pgbench -c 4 for $((SCALE / 2 + 20)) s"
    # a key-file repository: no Argon2id per wal-push JVM
    bk init --repo "$WORK/repo-pitr" --key-file "$WORK/pitr.key" >>"$LOG" 2>&1
    bk backup --physical --repo "$WORK/repo-pitr" --key-file "$WORK/pitr.key" --db "$URL" >>"$LOG" 2>&1
    mkdir -p "$WORK/hand" && chown "$PGUSER_OS" "$WORK/hand"
    as_pg "$PGBIN/pg_basebackup" -h "$SOCK" -p "$PORT" -U postgres -D "$WORK/hand" -Ft -X fetch -c fast --no-manifest >>"$LOG" 2>&1
    DUR=$((SCALE / 2 + 20))
    "$PGBIN/pgbench" -c 4 -T "$DUR" -n pgbench >>"$LOG" 2>&1 &
    load=$!
    sleep $((DUR / 2))
    TARGET=$(psqlc -d postgres -Atc "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00')")
    wait $load
    last=$(psqlc -d postgres -Atc "SELECT pg_walfile_name(pg_switch_wal())")
    while [ ! -f "$SPOOL/$last" ]; do sleep 0.2; done
    say "target $TARGET; pushing $(ls "$SPOOL" | grep -vc tmp) WAL files with backupkit wal-push"
    s=$(now_ns)
    for f in $(ls "$SPOOL" | grep -v '\.tmp$' | sort); do
        bk wal-push --repo "$WORK/repo-pitr" --key-file "$WORK/pitr.key" "$SPOOL/$f" >>"$LOG" 2>&1
    done
    e=$(now_ns)
    record "wal-push of the run's WAL, one JVM per file (s)" backupkit 1 "$(secs "$s" "$e")"
    start_until_promoted() { # <pgdata>
        chown -R "$PGUSER_OS" "$1"
        as_pg "$PGBIN/pg_ctl" -D "$1" -l "$1.log" -o "-p $((PORT + 1)) -c unix_socket_directories='$SOCK' -c listen_addresses=''" \
            -w -t 3600 start >>"$LOG" 2>&1
        until [ "$(psqlc -h "$SOCK" -p $((PORT + 1)) -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.1; done
        as_pg "$PGBIN/pg_ctl" -D "$1" -m fast -w stop >>"$LOG" 2>&1
    }
    for r in $(seq 1 "$ROUNDS"); do
        order="backupkit hand"
        [ $((r % 2)) = 0 ] && order="hand backupkit"
        for tool in $order; do
            d=$WORK/restore/$tool-$r
            sync; sleep 2
            s=$(now_ns)
            if [ "$tool" = backupkit ]; then
                bk restore --repo "$WORK/repo-pitr" --key-file "$WORK/pitr.key" latest --pgdata "$d" --to-time "$TARGET" \
                    --target-action promote >>"$LOG" 2>&1
            else
                mkdir -p "$d" && chmod 0700 "$d"
                tar -xf "$WORK/hand/base.tar" -C "$d"
                cp "$SPOOL"/0* "$d/pg_wal/" 2>/dev/null || true
                rm -f "$d"/pg_wal/*.tmp
                touch "$d/recovery.signal"
                printf "restore_command = '/bin/false'\nrecovery_target_time = '%s'\nrecovery_target_action = 'promote'\narchive_mode = 'off'\n" \
                    "$TARGET" >> "$d/postgresql.auto.conf"
            fi
            m=$(now_ns)
            start_until_promoted "$d"
            e=$(now_ns)
            record "restore to a point in time, total (s)" "$tool" "$r" "$(secs "$s" "$e")"
            record "  of which restore (s)" "$tool" "$r" "$(secs "$s" "$m")"
            record "  of which replay until promoted (s)" "$tool" "$r" "$(secs "$m" "$e")"
            rm -rf "$d" "$d.backupkit" "$d.log"
            say "round $r: $tool point-in-time restore done"
        done
    done
else
    say "the jar has no wal-push command: point-in-time restore figures skipped"
fi

# ---------------------------------------------------------------- report
SHA=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
OUT=$ROOT/bench/results/physical-$(date -u +%Y%m%d)-$SHA.md
mkdir -p "$ROOT/bench/results"
{
    echo "# Physical backups: scale $SCALE, $ROUNDS round(s), $(date -u +%Y-%m-%dT%H:%MZ), $SHA, $(nproc) cores, load at start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| figure | tool | median | samples |"
    echo "|---|---|---:|---|"
    awk -F'\t' '{ k = $1 "\t" $2; v[k] = v[k] " " $4; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
        END { for (i = 1; i <= n; i++) { split(order[i], p, "\t"); m = split(substr(v[order[i]], 2), a, " ");
              for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
              med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2;
              printf "| %s | %s | %s | %s |\n", p[1], p[2], med, substr(v[order[i]], 2) } }' "$RESULTS"
} | tee "$OUT"
echo "written to $OUT" >&2

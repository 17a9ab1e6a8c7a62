#!/usr/bin/env bash
# Side-by-side benchmark: backupkit vs pg_dump, restic and pgBackRest on the same data, same run.
#
#   bench/run.sh [--scale N] [--quick] [--rounds R] [--keep]
#
# --scale N   pgbench scale (default 100, ~1.5 GB); the mixed database gets about the same size
# --quick     scale 10 (unless --scale is given): a few minutes instead of ~20
# --rounds R  rounds of every timed step (default 3, minimum 3); tools alternate order per round
# --keep      keep bench/work/<run> (the cluster is stopped either way)
#
# Needs (it installs nothing; it says what is missing): PostgreSQL 15 server binaries, restic,
# pgbackrest, GNU time (/usr/bin/time), Java 17, python3, jq, and the CLI as a user runs it: the
# launcher examples/target/backupkit beside its jar (./mvnw -B -q package -DskipTests). For the S3
# rows, S3Proxy's jar-with-dependencies (./mvnw -B -q dependency:get
# -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies); without it those rows are skipped.
# Runs as root (starts PostgreSQL as user postgres) or as a normal user (starts it as that user).
#
# Environment: BENCH_JAVA_OPTS (extra JVM options for the CLI, passed to the launcher as
# BACKUPKIT_JAVA_OPTS; default none: the launcher's own options are what users get),
# BENCH_COMPRESSION (backupkit codec, default zstd:1 = the default of new repositories), PGBIN,
# BENCH_JAR (measure another build's jar with plain `java $BENCH_JAVA_OPTS -jar` instead of the launcher),
# BENCH_S3PROXY_JAR (default: the jar in ~/.m2), BENCH_S3=0 (skip S3),
# BENCH_JFR=1 (JFR profiles of round 1's backupkit backup and restore JVMs into bench/work/jfr/; the
# launcher then runs without its CDS archive, so those calls start slower than the unprofiled ones).
# Output: one markdown table of medians and ratios on stdout, also written to
# bench/results/<date>-<shortsha>-scale<N>.md with the raw samples. docs/performance.md explains it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=
ROUNDS=3
QUICK=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=${2:?--scale needs a number}; shift 2 ;;
        --scale=*) SCALE=${1#*=}; shift ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --rounds=*) ROUNDS=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$SCALE" ]; then
    if [ "$QUICK" = 1 ]; then SCALE=10; else SCALE=100; fi
fi
case "$SCALE" in ''|*[!0-9]*) echo "run.sh: --scale must be a positive integer, got '$SCALE'" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|*[!0-9]*) echo "run.sh: --rounds must be a positive integer, got '$ROUNDS'" >&2; exit 2 ;; esac
if [ "$SCALE" -lt 1 ]; then echo "run.sh: --scale must be >= 1" >&2; exit 2; fi
if [ "$ROUNDS" -lt 3 ]; then echo "run.sh: --rounds must be >= 3 (medians of fewer samples mislead)" >&2; exit 2; fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
LAUNCHER=$ROOT/examples/target/backupkit
JAR=${BENCH_JAR:-}
JAVA_OPTS=${BENCH_JAVA_OPTS:-}
COMPRESSION=${BENCH_COMPRESSION:-zstd:1}
S3PROXY_JAR=${BENCH_S3PROXY_JAR:-$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar}
if [ -n "$JAR" ]; then CLI_DESC="java $JAVA_OPTS -jar $JAR"; else CLI_DESC="examples/target/backupkit${JAVA_OPTS:+ (BACKUPKIT_JAVA_OPTS=$JAVA_OPTS)}"; fi

# ---------------------------------------------------------------- prerequisites (tell, never install)
missing=()
need() { # need <command-or-path> <how to get it>
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then missing+=("$1: $2"); fi
}
need "$PGBIN/initdb" "PostgreSQL 15 server: apt-get install postgresql-15 (or set PGBIN)"
need "$PGBIN/pgbench" "PostgreSQL 15 client tools: apt-get install postgresql-15"
need restic "apt-get install restic"
need pgbackrest "apt-get install pgbackrest"
need /usr/bin/time "GNU time for peak RSS: apt-get install time"
need java "Java 17: apt-get install openjdk-17-jdk-headless"
need python3 "apt-get install python3"
need jq "apt-get install jq"
if [ -n "$JAR" ]; then
    [ -f "$JAR" ] || missing+=("$JAR (BENCH_JAR) does not exist")
elif [ ! -x "$LAUNCHER" ] || [ ! -f "$ROOT/examples/target/backupkit.jar" ]; then
    missing+=("$LAUNCHER and its jar: build them with (cd $ROOT && ./mvnw -B -q package -DskipTests)")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "run.sh: missing prerequisites (nothing was installed):" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 2
fi

. "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------- work dir, cluster, cleanup
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)-$$
WORK=$ROOT/bench/work/$RUN_ID
mkdir -p "$WORK"
chmod 0755 "$ROOT/bench/work" "$WORK"
PGDATA=$WORK/pgdata
SOCK=$WORK/sock
PGB=$WORK/pgbackrest
mkdir -p "$SOCK" "$PGB/repo" "$PGB/log" "$PGB/lock" "$WORK/times" "$WORK/dumps" "$WORK/repos"
chown -R "$PGUSER_OS" "$SOCK" "$PGB" "$WORK/times"
chmod 0777 "$WORK/times"
SAMPLES=$WORK/samples.tsv
: > "$SAMPLES"
LOG=$WORK/run.log

PORT=$(free_port 55432 55532) || { echo "run.sh: no free port in 55432..55532" >&2; exit 1; }

export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
unset PGPASSWORD PGDATABASE
export BACKUPKIT_PASSWORD="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export RESTIC_PASSWORD=$BACKUPKIT_PASSWORD
export RESTIC_CACHE_DIR=$WORK/restic-cache

S3PROXY_PID=
cleanup() {
    local rc=$?
    if [ -n "$S3PROXY_PID" ]; then kill "$S3PROXY_PID" 2>/dev/null || true; fi
    if [ -f "$PGDATA/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ "$KEEP" = 1 ]; then
        echo "run.sh: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM


LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "scale $SCALE, $ROUNDS rounds, work dir $WORK, port $PORT, load $LOAD_START"
init_pg_cluster "$PGDATA" "$PORT" "$SOCK"
# archive_mode is on for pgBackRest; archive_command is /bin/true except while pgBackRest backs up,
# so restores pay no archiving.
cat >> "$PGDATA/postgresql.conf" <<EOF
maintenance_work_mem = 256MB
archive_command = '/bin/true'
EOF
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/times/postgres.log" -w start >>"$LOG" 2>&1

cat > "$PGB/pgbackrest.conf" <<EOF
[global]
repo1-path=$PGB/repo
repo1-retention-full=1
log-path=$PGB/log
lock-path=$PGB/lock
log-level-console=warn
log-level-file=info
compress-type=zst
process-max=2
start-fast=y

[bench]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=$SOCK
EOF
chown "$PGUSER_OS" "$PGB/pgbackrest.conf"
PGBR=(pgbackrest "--config=$PGB/pgbackrest.conf" --stanza=bench)

# ---------------------------------------------------------------- data
say "creating pgbench database (scale $SCALE)"
psqlc -d postgres -c "CREATE DATABASE pgbench"
"$PGBIN/pgbench" -i -q -s "$SCALE" pgbench >>"$LOG" 2>&1

MIXED_ROWS=$((SCALE * 40000))
say "creating mixed database ($MIXED_ROWS rows of text, numeric, jsonb, bytea; 4 indexes)"
psqlc -d postgres -c "CREATE DATABASE mixed"
# Half of each row is random (hex digests, random bytes): zlib/zstd gain ~2x, not pgbench's ~30x.
psqlc -d mixed <<EOF
CREATE TABLE events (
    id bigint PRIMARY KEY,
    created timestamptz NOT NULL,
    customer integer NOT NULL,
    amount numeric(12,2) NOT NULL,
    status text NOT NULL,
    note text,
    attrs jsonb,
    payload bytea
);
INSERT INTO events
SELECT g,
       timestamptz '2026-01-01' + g * interval '1 second',
       (random() * 1000000)::int,
       round((random() * 100000)::numeric, 2),
       (ARRAY['new','paid','shipped','returned','cancelled'])[1 + (g % 5)],
       'order ' || g || ' ' || md5(random()::text) || ' ' || substr(md5(random()::text), 1, (random() * 32)::int),
       jsonb_build_object('sku', md5(g::text), 'qty', (random() * 20)::int, 'price', round(random()::numeric * 500, 2),
                          'tags', jsonb_build_array((random() * 100)::int, (random() * 100)::int), 'gift', g % 7 = 0),
       decode(md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex')
FROM generate_series(1, $MIXED_ROWS) g;
CREATE INDEX events_customer ON events (customer);
CREATE INDEX events_created ON events (created);
CREATE INDEX events_attrs ON events USING gin (attrs jsonb_path_ops);
CREATE TABLE customers AS
SELECT c AS id, 'customer ' || c AS name, md5(c::text) || '@example.com' AS email, now() AS since
FROM generate_series(1, $((SCALE * 2000))) c;
ALTER TABLE customers ADD PRIMARY KEY (id);
VACUUM ANALYZE;
EOF
psqlc -d postgres -c "CHECKPOINT"
DB_SIZES=$(psqlc -d postgres -At -F' ' -c "SELECT datname, pg_database_size(datname) FROM pg_database WHERE datname IN ('pgbench','mixed') ORDER BY 1")
say "database sizes: $(echo $DB_SIZES)"

# ---------------------------------------------------------------- measuring helpers
rss_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1" 2>/dev/null || echo 0; }
cpu_s() { awk -F': ' '/User time|System time/ {c += $2} END {printf "%.2f", c}' "$1" 2>/dev/null || echo 0; }
# sample <tool> <db> <step> <round> <wall_s> <rss_kb> <bytes> [<cpu_s of the client process>]
sample() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-0}" >> "$SAMPLES"; }
repo_bytes() { du -s --apparent-size -B1 "$1" | cut -f1; } # what a repository occupies, tool-neutral
T=/usr/bin/time
settle() { psqlc -d postgres -c "CHECKPOINT" >/dev/null; sync; }

jfr_opts() { # BENCH_JFR=1: JFR profiles of round 1's backupkit JVMs into bench/work/jfr/ (kept)
    if [ "${BENCH_JFR:-0}" = 1 ] && [[ "$1" == *-1 ]]; then
        mkdir -p "$ROOT/bench/work/jfr"
        echo "-XX:StartFlightRecording=filename=$ROOT/bench/work/jfr/$1.jfr,settings=profile"
    fi
}

bk_argv() { # bk_argv <jfr-name-or-empty>: sets BK (an argv array) to the CLI as users run it (the launcher), or BENCH_JAR
    local jfr; jfr=$(jfr_opts "$1")
    if [ -n "$JAR" ]; then
        # shellcheck disable=SC2206
        BK=(java $JAVA_OPTS $jfr -jar "$JAR")
    else
        BK=(env "BACKUPKIT_JAVA_OPTS=$JAVA_OPTS $jfr" "$LAUNCHER")
    fi
}
bk() { bk_argv ""; "${BK[@]}" "$@"; }

run_pg_dump_fc() { # <db> <round> [step]
    local f=$WORK/dumps/$1-r$2.dump t=$WORK/times/pgdump-fc-$1-$2 s e
    s=$(now_ns); $T -v -o "$t" "$PGBIN/pg_dump" -Fc -d "$1" -f "$f"; e=$(now_ns)
    sample "pg_dump -Fc" "$1" "${3:-backup}" "$2" "$(secs "$s" "$e")" "$(rss_kb "$t")" "$(stat -c %s "$f")" "$(cpu_s "$t")"
    ln -sf "$f" "$WORK/dumps/$1-latest.dump"
}

run_pg_dump_fp() {
    local t=$WORK/times/pgdump-fp-$1-$2 s e
    s=$(now_ns); $T -v -o "$t" "$PGBIN/pg_dump" -Fp -d "$1" > /dev/null; e=$(now_ns)
    sample "pg_dump -Fp >/dev/null" "$1" backup "$2" "$(secs "$s" "$e")" "$(rss_kb "$t")" 0 "$(cpu_s "$t")"
}

run_restic() { # <db> <round> [step] [repo]: a fresh repository per round unless a repo is given
    local step=${3:-backup} repo=${4:-$WORK/repos/restic-$1-r$2} s e out
    local t1=$WORK/times/restic-dump-$1-$2-$step t2=$WORK/times/restic-$1-$2-$step
    if [ ! -d "$repo" ]; then restic -q -r "$repo" init >>"$LOG" 2>&1; fi
    out=$WORK/times/restic-$1-$2-$step.json
    local before; before=$(repo_bytes "$repo")
    s=$(now_ns)
    $T -v -o "$t1" "$PGBIN/pg_dump" -Fc -Z0 -d "$1" \
        | $T -v -o "$t2" restic -r "$repo" backup --stdin --stdin-filename "$1.dump" --json > "$out"
    e=$(now_ns)
    local added rss1 rss2
    # restic 0.14's data_added counts bytes before compression: measure what the repository grew by
    added=$(( $(repo_bytes "$repo") - before ))
    rss1=$(rss_kb "$t1"); rss2=$(rss_kb "$t2")
    sample "restic (pg_dump -Fc -Z0 |)" "$1" "$step" "$2" "$(secs "$s" "$e")" "$rss2" "$added" "$(cpu_s "$t2")"
    sample "pg_dump -Fc -Z0 (into restic)" "$1" "$step" "$2" "$(secs "$s" "$e")" "$rss1" 0 "$(cpu_s "$t1")"
    echo "$repo" > "$WORK/repos/restic-$1-latest"
}

run_backupkit() { # <db> <round> [step] [repo]
    local step=${3:-backup} repo=${4:-$WORK/repos/backupkit-$1-r$2} s e out
    local t=$WORK/times/backupkit-$1-$2-$step
    if [ ! -d "$repo" ]; then bk init --repo "$repo" --compression "$COMPRESSION" --json >>"$LOG" 2>&1; fi
    out=$WORK/times/backupkit-$1-$2-$step.json
    local before=0
    if [ -d "$repo" ]; then before=$(repo_bytes "$repo"); fi
    bk_argv "backup-$1-$2"
    s=$(now_ns)
    $T -v -o "$t" "${BK[@]}" backup --repo "$repo" --db "postgresql://postgres@127.0.0.1:$PORT/$1" \
        -o "toolDirectory=$PGBIN" --jobs 2 --compression "$COMPRESSION" --json --progress none > "$out" 2>>"$LOG"
    e=$(now_ns)
    local label=backupkit
    case "$repo" in s3://*) label="backupkit (S3)" ;; esac
    local grew=0
    if [ -d "$repo" ]; then grew=$(( $(repo_bytes "$repo") - before )); fi
    sample "$label" "$1" "$step" "$2" "$(secs "$s" "$e")" "$(rss_kb "$t")" "$grew" "$(cpu_s "$t")"
    # bytes of dump text the JVM handled: the denominator of its CPU per byte
    sample "$label bytes read" "$1" "$step" "$2" 0 0 "$(sed -n "/^{/,\$p" "$out" | jq -r .bytesRead)" 0
    echo "$label $1 $step: bytesStored $(sed -n "/^{/,\$p" "$out" | jq -r .bytesStored), repository grew $grew" >>"$LOG"
    echo "$repo" > "$WORK/repos/$(echo "$label" | tr -d ' ()')-$1-latest"
}

run_fixed() { # <round>: CLI fixed cost, `list` on an empty password-protected repository (JVM start + Argon2id)
    local repo=$WORK/repos/empty t=$WORK/times/fixed-$1 s e
    if [ ! -d "$repo" ]; then bk init --repo "$repo" --json >>"$LOG" 2>&1; fi
    bk_argv ""
    s=$(now_ns); $T -v -o "$t" "${BK[@]}" list --repo "$repo" --json > /dev/null 2>>"$LOG"; e=$(now_ns)
    sample "backupkit list, empty repository" all fixed "$1" "$(secs "$s" "$e")" "$(rss_kb "$t")" 0 "$(cpu_s "$t")"
}

PGBR_STATUS="not run"
pgbackrest_setup() {
    psqlc -d postgres -c "ALTER SYSTEM SET archive_command = 'pgbackrest --config=$PGB/pgbackrest.conf --stanza=bench archive-push %p'" \
        -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    if as_pg "${PGBR[@]}" stanza-create >>"$LOG" 2>&1 && as_pg "${PGBR[@]}" check >>"$LOG" 2>&1; then
        PGBR_STATUS=ok
    else
        PGBR_STATUS="failed: $(tail -n 3 "$LOG" | tr '\n' ' ')"
        say "pgBackRest setup failed, skipping it: $PGBR_STATUS"
    fi
}
pgbackrest_done() {
    psqlc -d postgres -c "ALTER SYSTEM SET archive_command = '/bin/true'" -c "SELECT pg_reload_conf()" >/dev/null
}

run_pgbackrest() { # <round>: physical, whole cluster (both databases)
    [ "$PGBR_STATUS" = ok ] || return 0
    local t=$WORK/times/pgbackrest-$1 s e size
    s=$(now_ns)
    if ! as_pg $T -v -o "$t" "${PGBR[@]}" --type=full backup >>"$LOG" 2>&1; then
        PGBR_STATUS="backup failed: $(tail -n 3 "$LOG" | tr '\n' ' ')"
        say "pgBackRest backup failed: $PGBR_STATUS"
        return 0
    fi
    e=$(now_ns)
    size=$(as_pg "${PGBR[@]}" --output=json info | jq '.[0].backup[-1].info.repository.delta')
    sample "pgBackRest full (cluster)" cluster backup "$1" "$(secs "$s" "$e")" "$(rss_kb "$t")" "$size" "$(cpu_s "$t")"
}

run_pg_restore() { # <db> <round>
    local target=r_pgr_$1 t=$WORK/times/pgrestore-$1-$2 s e
    s=$(now_ns)
    psqlc -d postgres -c "CREATE DATABASE $target"
    $T -v -o "$t" "$PGBIN/pg_restore" -j 2 -d "$target" "$WORK/dumps/$1-latest.dump"
    e=$(now_ns)
    sample "pg_restore -j 2" "$1" restore "$2" "$(secs "$s" "$e")" "$(rss_kb "$t")" 0 "$(cpu_s "$t")"
    psqlc -d postgres -c "DROP DATABASE $target"
}

run_backupkit_restore() { # <db> <round> [S3]
    local target=r_bk_$1 t=$WORK/times/bkrestore-$1-$2${3:+-s3} s e repo out
    if [ "${3:-}" = S3 ]; then repo=$(cat "$WORK/repos/backupkitS3-$1-latest"); else repo=$(cat "$WORK/repos/backupkit-$1-latest"); fi
    out=$WORK/times/bkrestore-$1-$2.json
    bk_argv "restore-$1-$2"
    s=$(now_ns)
    $T -v -o "$t" "${BK[@]}" restore --repo "$repo" latest \
        --target "postgresql://postgres@127.0.0.1:$PORT/$target" \
        -o "toolDirectory=$PGBIN" --jobs 2 --json --progress none > "$out" 2>>"$LOG"
    e=$(now_ns)
    sample "backupkit restore${3:+ ($3)}" "$1" restore "$2" "$(secs "$s" "$e")" "$(rss_kb "$t")" 0 "$(cpu_s "$t")"
    # a restore that silently lost rows would make every figure meaningless
    local want got
    want=$(psqlc -d "$1" -At -c "SELECT count(*) FROM $(main_table "$1")")
    got=$(psqlc -d "$target" -At -c "SELECT count(*) FROM $(main_table "$1")")
    if [ "$want" != "$got" ]; then
        say "backupkit restore of $1 has $got rows in $(main_table "$1"), the source $want"; exit 1
    fi
    psqlc -d postgres -c "DROP DATABASE $target"
}
main_table() { if [ "$1" = pgbench ]; then echo pgbench_accounts; else echo events; fi; }
run_backupkit_restore_s3() { [ "$S3_STATUS" = ok ] || return 0; run_backupkit_restore "$1" "$2" S3; }

S3_STATUS="not run"
s3_start() { # S3Proxy on loopback over a directory: the same disk as the local repositories
    if [ "${BENCH_S3:-1}" = 0 ]; then S3_STATUS="skipped (BENCH_S3=0)"; return 0; fi
    if [ ! -f "$S3PROXY_JAR" ]; then
        S3_STATUS="skipped: no $S3PROXY_JAR (./mvnw -B -q dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies)"
        say "$S3_STATUS"; return 0
    fi
    local port p
    for p in $(seq 58080 58180); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
    done
    mkdir -p "$WORK/s3/bench"
    export AWS_ACCESS_KEY_ID=bench-access AWS_SECRET_ACCESS_KEY="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" AWS_REGION=us-east-1
    start_s3proxy "$S3PROXY_JAR" "$port" "$WORK"
    S3_URL="s3://bench/%DB%?endpoint=http://127.0.0.1:$port&path-style=true&region=us-east-1"
    S3_STATUS=ok
    say "S3Proxy on 127.0.0.1:$port over $WORK/s3"
}

rotate() { # rotate <round> <items...>: the round-th rotation, so each tool leads once
    local r=$1; shift
    local a=("$@") n=$# i
    for ((i = 0; i < n; i++)); do echo "${a[$(((i + r) % n))]}"; done
}

s3_start

# ---------------------------------------------------------------- 1. first backups
for r in $(seq 1 "$ROUNDS"); do
    say "round $r/$ROUNDS: CLI fixed cost"
    run_fixed "$r"
    for db in pgbench mixed; do
        for step in $(rotate "$r" pg_dump_fc pg_dump_fp restic backupkit); do
            say "round $r/$ROUNDS $db: $step"
            settle
            "run_$step" "$db" "$r"
        done
    done
done
if [ "$S3_STATUS" = ok ]; then # one backup per database into S3Proxy, for the restore-from-S3 rounds
    for db in pgbench mixed; do
        say "$db: backup into S3 (S3Proxy)"
        settle
        run_backupkit "$db" 1 backup "${S3_URL//%DB%/$db}"
    done
fi

# ---------------------------------------------------------------- 2. pgBackRest (physical, cluster)
pgbackrest_setup
for r in $(seq 1 "$ROUNDS"); do
    say "round $r/$ROUNDS pgBackRest full backup"
    settle
    run_pgbackrest "$r"
done
pgbackrest_done

# ---------------------------------------------------------------- 3. restores
for r in $(seq 1 "$ROUNDS"); do
    for db in pgbench mixed; do
        for step in $(rotate "$r" pg_restore backupkit_restore backupkit_restore_s3); do
            say "round $r/$ROUNDS $db: $step"
            settle
            "run_$step" "$db" "$r"
        done
    done
done

# ---------------------------------------------------------------- 4. ~1 % of rows changed, second backups
# The changed rows sit in 10 runs spread over the table (how OLTP changes usually cluster); every
# update writes a new row version elsewhere in the heap, so a dump sees rows vanish at 10 places and
# reappear at the end. Fully random 1 % would touch every 1 MiB chunk of any chunking tool.
say "updating ~1 % of rows in 10 runs per database"
psqlc -d pgbench -c "UPDATE pgbench_accounts SET abalance = abalance + 7
    WHERE (aid % ($SCALE * 10000)) < ($SCALE * 100)"
psqlc -d mixed -c "UPDATE events SET status = 'audited', amount = amount + 1
    WHERE (id % ($MIXED_ROWS / 10)) < ($MIXED_ROWS / 1000)"
for db in pgbench mixed; do
    settle
    say "$db second backups"
    run_pg_dump_fc "$db" second second
    run_restic "$db" second second "$(cat "$WORK/repos/restic-$db-latest")"
    run_backupkit "$db" second second "$(cat "$WORK/repos/backupkit-$db-latest")"
done

# ---------------------------------------------------------------- report
SHA=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo nogit)
if ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then SHA=$SHA-dirty; fi
mkdir -p "$ROOT/bench/results"
OUT=$ROOT/bench/results/$(date -u +%Y-%m-%d)-$SHA-scale$SCALE.md
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
cp "$SAMPLES" "$ROOT/bench/work/last-samples.tsv"
python3 "$ROOT/bench/report.py" "$SAMPLES" \
    --scale="$SCALE" --rounds="$ROUNDS" --sha="$SHA" --db-sizes="$DB_SIZES" \
    --pgbackrest="$PGBR_STATUS" --java-opts="$CLI_DESC" --compression="$COMPRESSION" --s3="$S3_STATUS" \
    --load-start="$LOAD_START" --load-end="$LOAD_END" --cpus="$(nproc)" \
    --versions="$("$PGBIN/pg_dump" --version | head -1); $(restic version | cut -d' ' -f1-2); $(pgbackrest version); $(java -version 2>&1 | head -1)" \
    > "$OUT"
cat "$OUT"
say "written $OUT"

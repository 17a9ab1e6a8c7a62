#!/usr/bin/env bash
# SQLite and Redis side by side: backupkit vs the tools people use instead, same data, same run.
#
#   bench/engines.sh [--quick] [--sqlite-mib N] [--redis-keys N] [--rounds R] [--keep]
#
# SQLite (a database of --sqlite-mib MiB in WAL mode, rows of ~1 KB):
#   backup:  sqlite3 DB ".backup FILE"            vs  backupkit backup --db sqlite:DB
#   restore: cp FILE NEW (what restoring a .backup copy is)  vs  backupkit restore --target sqlite:NEW
#   second backup after 1 % of the rows changed (random rows): bytes backupkit stores
# Redis (--redis-keys keys: strings of 100 bytes, plus hashes, lists, sets, sorted sets):
#   backup:  redis-cli --rdb FILE                 vs  backupkit backup --db redis://…
#   restore: start a server on a data directory holding FILE as dump.rdb (until it accepts
#            commands)  vs  backupkit restore --target redis://… into an empty running server
#
# --quick        64 MiB and 200 000 keys (a smoke run: a minute or two)
# default        1024 MiB and 2 000 000 keys (needs a quiet machine, ~15 min)
# --rounds R     rounds of each timed step (default 3); the median is reported
# --keep         keep bench/work/engines-<run>
#
# Needs (installs nothing): sqlite3, redis-server, redis-cli (apt-get install sqlite3 redis-server),
# Java 17, and examples/target/backupkit.jar (./mvnw -B -q -pl examples -am package -DskipTests).
# Runs as root (redis-server as user redis) or as a normal user. Prints one markdown table, also
# written to bench/results/engines-<date>-<shortsha>.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MIB=1024
KEYS=2000000
ROUNDS=3
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MIB=64; KEYS=200000; shift ;;
        --sqlite-mib) MIB=${2:?}; shift 2 ;;
        --redis-keys) KEYS=${2:?}; shift 2 ;;
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "engines.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

JAR=${BENCH_JAR:-$ROOT/examples/target/backupkit.jar}
JAVA_OPTS=${BENCH_JAVA_OPTS--Xmx256m}
missing=()
for c in sqlite3 redis-server redis-cli java python3; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ -f "$JAR" ] || missing+=("$JAR (./mvnw -B -q -pl examples -am package -DskipTests)")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'engines.sh: missing: %s\n' "${missing[@]}" >&2
    echo "on Debian/Ubuntu: apt-get install sqlite3 redis-server openjdk-17-jdk-headless python3" >&2
    exit 2
fi

RUN=$(date +%Y%m%d-%H%M%S)
WORK=$ROOT/bench/work/engines-$RUN
mkdir -p "$WORK"
REDIS_USER=$(id -un)
if [ "$(id -u)" = 0 ]; then REDIS_USER=redis; fi
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

export BACKUPKIT_PASSWORD=bench-engines
bk() { java $JAVA_OPTS -jar "$JAR" "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
median() { python3 -c "import sys, statistics; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
stored() { # bytes stored by the last backup, from --json
    python3 -c "import json, sys; print(json.load(sys.stdin)['bytesStored'])"
}
freeport() { python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }

# ---------------------------------------------------------------- SQLite
DB=$WORK/sqlite/app.db
mkdir -p "$WORK/sqlite"
ROWS=$(( MIB * 1024 * 1024 / 1300 ))
echo "sqlite: creating $MIB MiB ($ROWS rows) ..." >&2
sqlite3 "$DB" "PRAGMA journal_mode=WAL;" >/dev/null
sqlite3 "$DB" "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, payload BLOB);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
  INSERT INTO items SELECT i, 'item-' || i, randomblob(1000) FROM n;
  CREATE INDEX items_name ON items(name);"
SIZE=$(stat -c %s "$DB")
s_tool=(); s_bk=(); r_tool=(); r_bk=()
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK/sqlite/repo" "$WORK/sqlite/copy.db" "$WORK/sqlite/r1.db" "$WORK/sqlite/r2.db"
    bk init --repo "$WORK/sqlite/repo" >/dev/null
    sync
    t0=$(now); sqlite3 "$DB" ".backup $WORK/sqlite/copy.db"; t1=$(now); s_tool+=("$(elapsed "$t0" "$t1")")
    sync
    t0=$(now); FIRST=$(bk backup --repo "$WORK/sqlite/repo" --db "sqlite:$DB" --json | stored); t1=$(now); s_bk+=("$(elapsed "$t0" "$t1")")
    sync
    t0=$(now); cp "$WORK/sqlite/copy.db" "$WORK/sqlite/r1.db"; sync; t1=$(now); r_tool+=("$(elapsed "$t0" "$t1")")
    t0=$(now); bk restore --repo "$WORK/sqlite/repo" --target "sqlite:$WORK/sqlite/r2.db" >/dev/null; t1=$(now); r_bk+=("$(elapsed "$t0" "$t1")")
done
CHANGE=$(( ROWS / 100 ))
sqlite3 "$DB" "UPDATE items SET payload = randomblob(1000) WHERE id IN (SELECT abs(random()) % $ROWS + 1 FROM items LIMIT $CHANGE);"
SECOND=$(bk backup --repo "$WORK/sqlite/repo" --db "sqlite:$DB" --json | stored)

# ---------------------------------------------------------------- Redis
mkdir -p "$WORK/redis/src" "$WORK/redis/load" "$WORK/redis/target"
[ "$(id -u)" = 0 ] && chown -R redis "$WORK/redis"
LAST=
start_redis() { # start_redis DIR PORT; the server's pid in $LAST
    runas=()
    [ "$(id -u)" = 0 ] && runas=(runuser -u redis --)
    "${runas[@]}" redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --save "" --appendonly no \
        --repl-diskless-sync-delay 0 --logfile "$1/redis.log" --daemonize no >/dev/null 2>&1 </dev/null &
    LAST=$!
}
wait_redis() { until redis-cli -p "$1" ping >/dev/null 2>&1; do sleep 0.05; done; }
wait_loaded() { until [ "$(redis-cli -p "$1" info persistence 2>/dev/null | tr -d '\r' | sed -n 's/^loading://p')" = 0 ]; do sleep 0.05; done; }
SPORT=$(freeport); start_redis "$WORK/redis/src" "$SPORT"; SPID=$LAST; PIDS+=("$SPID"); wait_redis "$SPORT"
echo "redis: loading $KEYS keys ..." >&2
python3 - "$KEYS" <<'EOF' | redis-cli -p "$SPORT" --pipe >/dev/null
import sys, random
n = int(sys.argv[1]); r = random.Random(1)
def cmd(*a):
    out = [f"*{len(a)}\r\n"]
    for x in a:
        b = str(x).encode()
        out.append(f"${len(b)}\r\n{str(x)}\r\n")
    return "".join(out)
w = sys.stdout.write
for i in range(n):
    k = i % 10
    if k < 7:
        w(cmd("SET", f"key:{i}", "%0100x" % r.getrandbits(400)))
    elif k == 7:
        w(cmd("HSET", f"hash:{i // 100}", f"f{i}", "%032x" % r.getrandbits(128)))
    elif k == 8:
        w(cmd("RPUSH", f"list:{i // 1000}", f"element-{i}"))
    else:
        w(cmd("ZADD", f"zset:{i // 1000}", r.random() * 1e6, f"member-{i}"))
EOF
RDBSIZE=0
b_tool=(); b_bk=(); l_tool=(); l_bk=()
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK/redis/repo" "$WORK/redis/dump.rdb"
    bk init --repo "$WORK/redis/repo" >/dev/null
    t0=$(now); redis-cli -p "$SPORT" --rdb "$WORK/redis/dump.rdb" >/dev/null 2>&1; t1=$(now); b_tool+=("$(elapsed "$t0" "$t1")")
    RDBSIZE=$(stat -c %s "$WORK/redis/dump.rdb")
    t0=$(now); bk backup --repo "$WORK/redis/repo" --db "redis://127.0.0.1:$SPORT" >/dev/null; t1=$(now); b_bk+=("$(elapsed "$t0" "$t1")")
    # restore by placing the RDB into a data directory and starting the server on it
    rm -rf "$WORK/redis/load"/*; cp "$WORK/redis/dump.rdb" "$WORK/redis/load/dump.rdb"
    [ "$(id -u)" = 0 ] && chown -R redis "$WORK/redis/load"
    LPORT=$(freeport)
    t0=$(now); start_redis "$WORK/redis/load" "$LPORT"; LPID=$LAST; wait_redis "$LPORT"; wait_loaded "$LPORT"; t1=$(now); l_tool+=("$(elapsed "$t0" "$t1")")
    kill "$LPID"; wait "$LPID" 2>/dev/null || true
    TPORT=$(freeport); start_redis "$WORK/redis/target" "$TPORT"; TPID=$LAST; wait_redis "$TPORT"
    t0=$(now); bk restore --repo "$WORK/redis/repo" --target "redis://127.0.0.1:$TPORT" >/dev/null; t1=$(now); l_bk+=("$(elapsed "$t0" "$t1")")
    kill "$TPID"; wait "$TPID" 2>/dev/null || true
done

# ---------------------------------------------------------------- report
SHA=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$ROOT/bench/results"
OUT=$ROOT/bench/results/engines-$(date +%Y-%m-%d)-$SHA.md
{
    echo "## bench/engines.sh, $(date -u +%Y-%m-%dT%H:%MZ), $SHA, $(nproc) CPUs, median of $ROUNDS"
    echo
    echo "| step | tool | tool s | backupkit s | backupkit / tool |"
    echo "|---|---|---:|---:|---:|"
    row() { echo "| $1 | $2 | $3 | $4 | $(python3 -c "print(f'{float(\"$4\") / max(float(\"$3\"), 0.01):.2f}')") |"; }
    row "SQLite backup, $((SIZE >> 20)) MiB" 'sqlite3 .backup' "$(median "${s_tool[@]}")" "$(median "${s_bk[@]}")"
    row "SQLite restore" 'cp of the .backup file' "$(median "${r_tool[@]}")" "$(median "${r_bk[@]}")"
    row "Redis backup, $KEYS keys, RDB $((RDBSIZE >> 20)) MiB" 'redis-cli --rdb' "$(median "${b_tool[@]}")" "$(median "${b_bk[@]}")"
    row "Redis restore" 'start on dump.rdb' "$(median "${l_tool[@]}")" "$(median "${l_bk[@]}")"
    echo
    echo "SQLite second backup after 1 % of rows changed: stored $SECOND bytes = $(python3 -c "print(f'{100 * $SECOND / $FIRST:.1f}')") % of the first ($FIRST bytes)."
    echo
    echo "raw: sqlite backup tool ${s_tool[*]} / backupkit ${s_bk[*]}; restore ${r_tool[*]} / ${r_bk[*]};" \
         "redis backup ${b_tool[*]} / ${b_bk[*]}; restore ${l_tool[*]} / ${l_bk[*]}"
} | tee "$OUT"

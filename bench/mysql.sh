#!/usr/bin/env bash
# Side-by-side benchmark for MariaDB: backupkit vs mariadb-dump / mariadb on the same data, same run.
#
#   bench/mysql.sh [--rows N] [--quick] [--rounds R] [--keep]
#
# --rows N    rows of the main table (default 4000000, ~1.3 GB with its neighbours)
# --quick     200000 rows (unless --rows is given): about a minute, for a smoke run
# --rounds R  rounds of every timed step (default 3, minimum 3); tools alternate order per round
# --keep      keep bench/work/mysql-<run> (the server is stopped either way)
#
# Needs (it installs nothing; it says what is missing): MariaDB 10.11 server and client
# (mariadbd, mariadb-install-db, mariadb, mariadb-dump), zstd, GNU time, Java 17, python3, and the
# CLI jar examples/target/backupkit.jar (mvn -B -q package -DskipTests). Runs as root (starts the
# server as user mysql) or as an ordinary user.
#
# Environment: BENCH_JAVA_OPTS (JVM options of the CLI, default "-Xmx200m"), BENCH_JAR.
# Output: a markdown table of medians and ratios on stdout, also written to
# bench/results/<date>-<shortsha>-mysql.md with the raw samples. docs/performance.md explains it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=
ROUNDS=3
QUICK=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS=${2:?--rows needs a number}; shift 2 ;;
        --rows=*) ROWS=${1#*=}; shift ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --rounds=*) ROUNDS=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "mysql.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$ROWS" ]; then
    if [ "$QUICK" = 1 ]; then ROWS=200000; else ROWS=4000000; fi
fi
case "$ROWS" in ''|*[!0-9]*) echo "mysql.sh: --rows must be a positive integer, got '$ROWS'" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|*[!0-9]*) echo "mysql.sh: --rounds must be a positive integer, got '$ROUNDS'" >&2; exit 2 ;; esac
if [ "$ROUNDS" -lt 3 ]; then echo "mysql.sh: --rounds must be >= 3 (medians of fewer samples mislead)" >&2; exit 2; fi

JAR=${BENCH_JAR:-$ROOT/examples/target/backupkit.jar}
JAVA_OPTS=${BENCH_JAVA_OPTS--Xmx200m}
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}

missing=()
need() { if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then missing+=("$1: $2"); fi; }
need "$MARIADBD" "MariaDB server: apt-get install mariadb-server (or set MARIADBD)"
need mariadb-install-db "apt-get install mariadb-server"
need mariadb "apt-get install mariadb-client"
need mariadb-dump "apt-get install mariadb-client"
need zstd "apt-get install zstd"
need /usr/bin/time "GNU time for peak RSS: apt-get install time"
need java "Java 17: apt-get install openjdk-17-jdk-headless"
need python3 "apt-get install python3"
if [ ! -f "$JAR" ]; then missing+=("$JAR: build it with (cd $ROOT && mvn -B -q package -DskipTests)"); fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "mysql.sh: missing prerequisites (nothing was installed):" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 2
fi

RUN=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$ROOT/bench/work/mysql-$RUN
mkdir -p "$WORK"
LOG=$WORK/log.txt
SAMPLES=$WORK/samples.tsv
: > "$SAMPLES"
if [ "$(id -u)" = 0 ]; then
    OSUSER=mysql
    as_db() { runuser -u mysql -- "$@"; }
else
    OSUSER=$(id -un)
    as_db() { "$@"; }
fi
DATA=$WORK/server
mkdir -p "$DATA/data" "$DATA/tmp"
chown -R "$OSUSER" "$DATA" 2>/dev/null || true
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PW=bench-$RANDOM-$RANDOM
export MYSQL_PWD=$PW BACKUPKIT_DB_PASSWORD=$PW BACKUPKIT_PASSWORD=bench-repository

cleanup() {
    if [ -f "$DATA/mysqld.pid" ]; then kill "$(cat "$DATA/mysqld.pid")" 2>/dev/null || true; sleep 2; fi
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }
sql() { mariadb --protocol=TCP -h 127.0.0.1 -P "$PORT" -u root "$@"; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
rss_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1" 2>/dev/null || echo 0; }
cpu_s() { awk -F': ' '/User time|System time/ {c += $2} END {printf "%.2f", c}' "$1" 2>/dev/null || echo 0; }
sample() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-0}" >> "$SAMPLES"; } # step tool round seconds bytes client-cpu
bk() { /usr/bin/time -v -o "$WORK/time.txt" java $JAVA_OPTS -jar "$JAR" "$@"; }
settle() { sql -e "FLUSH TABLES" >/dev/null; sync; }

say "installing a MariaDB server in $DATA (port $PORT)"
as_db mariadb-install-db --no-defaults --datadir="$DATA/data" --tmpdir="$DATA/tmp" --auth-root-authentication-method=normal \
    --skip-test-db >> "$LOG" 2>&1
cat > "$DATA/init.sql" <<EOF
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$PW';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';
EOF
chown "$OSUSER" "$DATA/init.sql" 2>/dev/null || true
# durability stays on (innodb_flush_log_at_trx_commit=1): turning it off would flatter whichever tool writes most
as_db "$MARIADBD" --no-defaults --datadir="$DATA/data" --tmpdir="$DATA/tmp" --socket="$DATA/mysqld.sock" --pid-file="$DATA/mysqld.pid" \
    --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve --init-file="$DATA/init.sql" --log-error="$DATA/error.log" \
    --innodb-buffer-pool-size=512M --innodb-log-file-size=512M --log-bin="$DATA/data/binlog" --binlog-format=ROW --server-id=1 \
    --character-set-server=utf8mb4 --max-allowed-packet=256M >> "$LOG" 2>&1 &
for _ in $(seq 1 600); do
    if grep -q "ready for connections" "$DATA/error.log" 2>/dev/null && sql -e "SELECT 1" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
sql -e "SELECT VERSION()" >/dev/null

say "creating database bench: $ROWS rows in events, $((ROWS / 10)) in customers, $((ROWS / 4)) in a MyISAM log"
sql -e "CREATE DATABASE bench"
sql bench <<EOF
CREATE TABLE customers (id int PRIMARY KEY, email varchar(120) NOT NULL, name varchar(100), tier tinyint, created datetime, KEY (email)) ENGINE=InnoDB;
CREATE TABLE events (id bigint PRIMARY KEY, customer_id int NOT NULL, at datetime(3) NOT NULL, kind varchar(20), amount decimal(12,2),
    payload json, digest char(64), raw varbinary(48), KEY (customer_id), KEY (at)) ENGINE=InnoDB;
CREATE TABLE log (id bigint PRIMARY KEY, line varchar(200)) ENGINE=MyISAM;
INSERT INTO customers SELECT seq, concat('user', seq, '@example.com'), concat('Customer ', seq), seq % 5, '2020-01-01' + INTERVAL seq MINUTE
    FROM seq_1_to_$((ROWS / 10));
INSERT INTO events SELECT seq, 1 + seq % $((ROWS / 10)), '2024-01-01' + INTERVAL seq SECOND, elt(1 + seq % 4, 'view', 'cart', 'buy', 'refund'),
    (seq % 10000) / 100, json_object('n', seq, 'tag', concat('t', seq % 97)), sha2(seq, 256), unhex(sha2(concat('r', seq), 384))
    FROM seq_1_to_$ROWS;
INSERT INTO log SELECT seq, concat('request ', seq, ' served in ', seq % 997, ' ms') FROM seq_1_to_$((ROWS / 4));
EOF
sql bench -e "ANALYZE TABLE customers, events, log" > /dev/null
SIZE=$(sql -N -e "SELECT sum(data_length + index_length) FROM information_schema.TABLES WHERE table_schema = 'bench'")
say "database bench: $((SIZE / 1048576)) MiB (data + indexes)"
checksum() { sql -N "$1" -e "CHECKSUM TABLE customers, events, log EXTENDED" | awk '{print $2}' | tr '\n' ' '; }
SOURCE_SUM=$(checksum bench)

rotate() { local r=$1; shift; local items=("$@"); local n=${#items[@]}; for i in $(seq 0 $((n - 1))); do echo "${items[$(((i + r) % n))]}"; done; }

for round in $(seq 1 "$ROUNDS"); do
    for tool in $(rotate "$round" mariadb-dump backupkit); do
        if [ "$tool" = backupkit ]; then # a fresh repository per round, made outside the timing (like bench/run.sh)
            rm -rf "$WORK/repo-$round"
            bk init --repo "$WORK/repo-$round" >> "$LOG" 2>&1
        fi
        settle
        t0=$(now_ns)
        if [ "$tool" = mariadb-dump ]; then
            /usr/bin/time -v -o "$WORK/time.txt" sh -c "mariadb-dump --protocol=TCP -h 127.0.0.1 -P $PORT -u root --single-transaction \
                --quick --routines --triggers --events bench | zstd -1 -q -T1 > '$WORK/dump-$round.sql.zst'"
            bytes=$(stat -c %s "$WORK/dump-$round.sql.zst")
        else
            bk backup --repo "$WORK/repo-$round" --db "mariadb://root@127.0.0.1:$PORT/bench" --jobs 2 --progress none >> "$LOG" 2>&1
            bytes=$(du -s --apparent-size -B1 "$WORK/repo-$round" | cut -f1)
        fi
        t1=$(now_ns)
        sample backup "$tool" "$round" "$(secs "$t0" "$t1")" "$bytes" "$(cpu_s "$WORK/time.txt")"
        say "round $round backup $tool: $(secs "$t0" "$t1") s, $bytes bytes, peak RSS $(rss_kb "$WORK/time.txt") KiB"
        if [ "$tool" = backupkit ]; then # the fixed cost of every CLI call: JVM start-up, Argon2id key derivation
            t0=$(now_ns); java $JAVA_OPTS -jar "$JAR" list --repo "$WORK/repo-$round" > /dev/null; t1=$(now_ns)
            sample fixed-cost backupkit "$round" "$(secs "$t0" "$t1")" 0
        fi
    done
    for tool in $(rotate "$round" mariadb backupkit); do
        settle
        target=restored_${tool//-/_}_$round
        t0=$(now_ns)
        if [ "$tool" = mariadb ]; then
            sql -e "CREATE DATABASE $target"
            zstd -d -q -c "$WORK/dump-$round.sql.zst" | sql "$target"
        else
            bk restore --repo "$WORK/repo-$round" latest --target "mariadb://root@127.0.0.1:$PORT/$target" --jobs 2 --progress none \
                >> "$LOG" 2>&1
        fi
        t1=$(now_ns)
        sample restore "$tool" "$round" "$(secs "$t0" "$t1")" 0
        sum=$(checksum "$target")
        if [ "$sum" != "$SOURCE_SUM" ]; then say "ERROR: $target differs from the source ($sum vs $SOURCE_SUM)"; exit 1; fi
        say "round $round restore $tool: $(secs "$t0" "$t1") s (checksums equal)"
        sql -e "DROP DATABASE $target"
    done
done

say "changing ~1 % of events (10 clustered runs), then a second backup into round 1's repository"
step=$((ROWS / 10))
for i in $(seq 0 9); do
    sql bench -e "UPDATE events SET kind = 'changed', amount = amount + 1 WHERE id > $((i * step)) AND id <= $((i * step + ROWS / 1000))"
done
before=$(du -s --apparent-size -B1 "$WORK/repo-1" | cut -f1)
t0=$(now_ns)
bk backup --repo "$WORK/repo-1" --db "mariadb://root@127.0.0.1:$PORT/bench" --jobs 2 --progress none >> "$LOG" 2>&1
t1=$(now_ns)
after=$(du -s --apparent-size -B1 "$WORK/repo-1" | cut -f1)
sample second-backup backupkit 1 "$(secs "$t0" "$t1")" $((after - before))
say "second backup: $(secs "$t0" "$t1") s, $((after - before)) new bytes"

mkdir -p "$ROOT/bench/results"
OUT=$ROOT/bench/results/$(date -u +%Y-%m-%d)-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo nogit)-mysql.md
python3 - "$SAMPLES" "$ROWS" "$SIZE" "$(sql -N -e 'SELECT VERSION()')" > "$OUT" <<'PY'
import statistics, sys
samples, rows, size, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = {}
for line in open(samples):
    step, tool, rnd, secs, nbytes, cpu = line.rstrip("\n").split("\t")
    data.setdefault((step, tool), []).append((float(secs), int(nbytes), float(cpu)))
def med(step, tool, i=0):
    v = data.get((step, tool))
    return statistics.median(x[i] for x in v) if v else None
print(f"# MariaDB side by side: {rows:,} rows, {size / 2**20:,.0f} MiB, {version}\n")
print("| step | mariadb-dump / mariadb | backupkit (--jobs 2) | backupkit / other |")
print("|---|---:|---:|---:|")
b1, b2 = med("backup", "mariadb-dump"), med("backup", "backupkit")
print(f"| backup, s | {b1:.1f} | {b2:.1f} | {b2 / b1:.2f} |")
c1, c2 = med("backup", "mariadb-dump", 2), med("backup", "backupkit", 2)
print(f"| backup, client CPU s (user + sys; the server's own CPU not counted) | {c1:.1f} | {c2:.1f} | {c2 / max(c1, 0.01):.2f} |")
s1, s2 = med("backup", "mariadb-dump", 1), med("backup", "backupkit", 1)
print(f"| stored, MiB (dump + zstd -1 / repository) | {s1 / 2**20:.1f} | {s2 / 2**20:.1f} | {s2 / s1:.2f} |")
r1, r2 = med("restore", "mariadb"), med("restore", "backupkit")
print(f"| restore, s | {r1:.1f} | {r2:.1f} | {r2 / r1:.2f} |")
fc = med("fixed-cost", "backupkit")
if fc is not None:
    print(f"| of which the CLI's fixed cost (JVM start, Argon2id; `list`), s | | {fc:.1f} | |")
sb = data.get(("second-backup", "backupkit"))
if sb:
    print(f"| second backup after ~1 % changed rows: s / new MiB | | {sb[0][0]:.1f} s / {sb[0][1] / 2**20:.2f} MiB | |")
print("\nRaw samples (step, tool, round, seconds, bytes, client CPU seconds):\n```")
print(open(samples).read().rstrip())
print("```")
PY
cat "$OUT"
say "written to $OUT"

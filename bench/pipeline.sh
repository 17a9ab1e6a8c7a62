#!/usr/bin/env bash
# Pipeline throughput (issue 2, acceptance 8): backs up 1 GiB of generated dump-like text into a new
# encrypted repository (zstd + AES-256-GCM + HMAC ids + SHA-256) with a 256 MiB heap and prints
# MB/s, peak heap and peak RSS. No database involved: this is backup-core alone.
#
#   bench/pipeline.sh [--bytes N] [--parallelism P] [--runs R] [--jfr]
#
# --bytes N        stream size (default 1073741824 = 1 GiB)
# --parallelism P  pipeline workers (default 2)
# --runs R         repeat and report each run plus the median (default 3)
# --jfr            record a JFR profile of the last run to bench/work/pipeline.jfr
#
# PIPELINE_CP_PREPEND=DIR_OR_JAR puts classes ahead of the jar, to try a changed core class without
# rebuilding (e.g. a patched io/backupkit/internal/crypto/Aead.class).
# Uses bench/jmh/target/benchmarks.jar (it holds backup-core, its test kit and dependencies); builds
# it when missing with: mvn -B -q -Pjmh -pl bench/jmh -am package -DskipTests
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BYTES=1073741824
PAR=2
RUNS=3
JFR=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bytes) BYTES=${2:?}; shift 2 ;;
        --parallelism) PAR=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --jfr) JFR=1; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "pipeline.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for v in "$BYTES" "$PAR" "$RUNS"; do
    case "$v" in ''|*[!0-9]*) echo "pipeline.sh: --bytes, --parallelism and --runs take positive integers, got '$v'" >&2; exit 2 ;; esac
done
command -v java >/dev/null || { echo "pipeline.sh: needs Java 17 (apt-get install openjdk-17-jdk-headless)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "pipeline.sh: needs GNU time for peak RSS (apt-get install time)" >&2; exit 2; }

JAR=$ROOT/bench/jmh/target/benchmarks.jar
if [ ! -f "$JAR" ]; then
    echo "pipeline.sh: building $JAR" >&2
    (cd "$ROOT" && mvn -B -q -Pjmh -pl bench/jmh -am package -DskipTests)
fi

WORK=$ROOT/bench/work/pipeline-$$
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

speeds=()
for i in $(seq 1 "$RUNS"); do
    jfr_opt=()
    if [ "$JFR" = 1 ] && [ "$i" = "$RUNS" ]; then
        jfr_opt=("-XX:StartFlightRecording=filename=$ROOT/bench/work/pipeline.jfr,settings=profile")
    fi
    rm -rf "$WORK/repo"
    line=$(/usr/bin/time -v -o "$WORK/time" java -Xmx256m "${jfr_opt[@]}" -cp "${PIPELINE_CP_PREPEND:+$PIPELINE_CP_PREPEND:}$JAR" \
        io.backupkit.testkit.GeneratedBackupMain "$WORK/repo" "$BYTES" "$PAR" 2>"$WORK/err" | grep '^bytesRead=') \
        || { cat "$WORK/err" >&2; exit 1; }
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$WORK/time")
    echo "run $i: $line peakRssMiB=$rss"
    speeds+=("$(sed 's/.*MBps=\([0-9.]*\).*/\1/' <<<"$line")")
done
median=$(printf '%s\n' "${speeds[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
echo "pipeline: $((BYTES >> 20)) MiB dump-like text, zstd (repository default) + AES-256-GCM, parallelism $PAR," \
    "-Xmx256m, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg): median $median MB/s over $RUNS runs"
if [ "$JFR" = 1 ]; then echo "profile: $ROOT/bench/work/pipeline.jfr (jfr print --events jdk.ExecutionSample …)"; fi

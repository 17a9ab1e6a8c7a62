#!/usr/bin/env bash
# Scale (issue 11, acceptance 5): a synthetic repository of 10 million blobs and 1,000 snapshots, then
# open (list every snapshot + load the dedup index), a backup and a prune, each in its own JVM with a
# 512 MiB heap. Prints seconds, peak heap (sampled) and peak RSS per phase.
#
#   bench/scale.sh [--snapshots N] [--append A] [--hot H] [--heap SIZE] [--backup-bytes B] [--forget F] [--keep]
#
# --snapshots N     daily snapshots (default 1000)
# --append A        blobs appended per day, referenced by every later snapshot (default 5000)
# --hot H           blobs of each day's own, replaced the next day (default 5000); blobs = N * (A + H)
# --heap SIZE       -Xmx of the measured phases (default 512m)
# --backup-bytes B  size of the backup phase's stream (default 268435456 = 256 MiB; half new, half seen)
# --forget F        the prune phase forgets the F oldest snapshots first (default 10)
# --keep            keep the generated repository in bench/work/scale (reused by the next run)
#
# Generation runs with a 1 GiB heap and is not a measured phase. Uses bench/jmh/target/benchmarks.jar
# (backup-core, its test kit and dependencies); builds it when missing with:
#   ./mvnw -B -q -Pjmh -pl bench/jmh -am package -DskipTests
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SNAPSHOTS=1000
APPEND=5000
HOT=5000
HEAP=512m
BACKUP_BYTES=268435456
FORGET=10
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --snapshots) SNAPSHOTS=${2:?}; shift 2 ;;
        --append) APPEND=${2:?}; shift 2 ;;
        --hot) HOT=${2:?}; shift 2 ;;
        --heap) HEAP=${2:?}; shift 2 ;;
        --backup-bytes) BACKUP_BYTES=${2:?}; shift 2 ;;
        --forget) FORGET=${2:?}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "scale.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for v in "$SNAPSHOTS" "$APPEND" "$HOT" "$BACKUP_BYTES" "$FORGET"; do
    case "$v" in ''|*[!0-9]*) echo "scale.sh: counts and sizes take positive integers, got '$v'" >&2; exit 2 ;; esac
done
command -v java >/dev/null || { echo "scale.sh: needs Java 17 (apt-get install openjdk-17-jdk-headless)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "scale.sh: needs GNU time for peak RSS (apt-get install time)" >&2; exit 2; }

JAR=$ROOT/bench/jmh/target/benchmarks.jar
if [ ! -f "$JAR" ]; then
    echo "scale.sh: building $JAR" >&2
    (cd "$ROOT" && ./mvnw -B -q -Pjmh -pl bench/jmh -am package -DskipTests)
fi

WORK=$ROOT/bench/work/scale
REPO=$WORK/repo-$SNAPSHOTS-$APPEND-$HOT
KEY=$REPO.key
mkdir -p "$WORK"
if [ "$KEEP" = 0 ]; then
    trap 'rm -rf "$REPO" "$KEY"' EXIT
fi

main() { java "$@" -cp "$JAR" io.backupkit.testkit.ScaleMain; }
phase() {
    local name=$1; shift
    local line
    line=$(/usr/bin/time -v -o "$WORK/time" java "-Xmx$HEAP" -cp "$JAR" io.backupkit.testkit.ScaleMain "$name" "$REPO" "$KEY" "$@" \
        2>"$WORK/err" | grep '^phase=') || { cat "$WORK/err" >&2; exit 1; }
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$WORK/time")
    echo "$line peakRssMiB=$rss"
}

if [ ! -f "$REPO/config" ]; then
    rm -rf "$REPO" "$KEY"
    echo "generating $((SNAPSHOTS * (APPEND + HOT))) blobs in $SNAPSHOTS snapshots into $REPO" >&2
    java -Xmx1g -cp "$JAR" io.backupkit.testkit.ScaleMain generate "$REPO" "$KEY" "$SNAPSHOTS" "$APPEND" "$HOT" | grep '^phase='
fi
echo "repository: $(du -sh "$REPO" | cut -f1) on disk, $(find "$REPO/index" -type f | wc -l) index objects, $(find "$REPO/data" -type f | wc -l) packs"
phase open
phase backup "$BACKUP_BYTES"
phase prune "$FORGET"
echo "scale: $((SNAPSHOTS * (APPEND + HOT))) blobs, $SNAPSHOTS snapshots, -Xmx$HEAP, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

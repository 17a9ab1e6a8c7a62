# Helpers of the bench scripts that start their own PostgreSQL cluster (run.sh, physical.sh).
# Sourced, not run: `. "$ROOT/bench/lib.sh"`. say and init_pg_cluster write to $LOG; psqlc and
# init_pg_cluster use $PGBIN.

# as_pg CMD…: runs CMD as the cluster's OS user, PGUSER_OS: postgres when run as root (PostgreSQL
# refuses root), else the caller.
if [ "$(id -u)" = 0 ]; then
    PGUSER_OS=postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    PGUSER_OS=$(id -un)
    as_pg() { "$@"; }
fi

# free_port LO HI: prints the first port of LO..HI that nothing listens on at 127.0.0.1; fails if none.
free_port() {
    local p
    for p in $(seq "$1" "$2"); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# start_s3proxy JAR PORT DIR: S3Proxy (filesystem backend under DIR/s3, bucket directories made by the
# caller) on 127.0.0.1:PORT with the credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, logging to
# DIR/s3proxy.log; sets S3PROXY_PID and returns once the port answers (or after ~20 s).
start_s3proxy() {
    cat > "$3/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$2
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
s3proxy.ignore-unknown-headers=true
jclouds.provider=filesystem
jclouds.filesystem.basedir=$3/s3
CONF
    java -Xmx512m -jar "$1" --properties "$3/s3proxy.conf" >>"$3/s3proxy.log" 2>&1 &
    S3PROXY_PID=$!
    for _ in $(seq 1 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/$2) 2>/dev/null; then return 0; fi
        sleep 0.2
    done
}

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }
psqlc() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
now_ns() { date +%s%N; }
# secs START_NS END_NS: seconds between two now_ns, with SECS_DECIMALS (default 3) decimals
secs() { awk -v a="$1" -v b="$2" -v d="${SECS_DECIMALS:-3}" 'BEGIN { printf("%." d "f", (b - a) / 1e9) }'; }

# init_pg_cluster PGDATA PORT SOCKET_DIR: initdb (UTF8, C.UTF-8) as PGUSER_OS, plus the settings every
# benchmark shares: loopback only, more shared memory and WAL room than the tiny defaults (so restores
# are not dominated by forced checkpoints), fsync on, archive_mode on. The caller appends its own
# settings (archive_command at least) to PGDATA/postgresql.conf, then starts the server.
init_pg_cluster() {
    mkdir -p "$1" && chown "$PGUSER_OS" "$1" && chmod 0700 "$1"
    as_pg "$PGBIN/initdb" -D "$1" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >>"$LOG" 2>&1
    cat >> "$1/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$3'
shared_buffers = 256MB
max_wal_size = 8GB
checkpoint_timeout = 30min
wal_level = replica
archive_mode = on
max_wal_senders = 4
log_min_messages = warning
EOF
}

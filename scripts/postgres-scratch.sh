# Sourced by scripts: a throw-away PostgreSQL cluster on loopback for the tests and benchmarks.
# Sets NTMWATCH_TEST_POSTGRES_URL. initdb refuses root, so the cluster runs as `postgres`.
postgres_scratch_start() {
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_SCRATCH=$(mktemp -d /tmp/ntmwatch-pg.XXXXXX)
    port=$(( 40000 + $$ % 20000 ))
    run_as=""
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_SCRATCH"; run_as="runuser -u postgres --"; fi
    $run_as "$bin/initdb" -D "$PG_SCRATCH/data" -U ntmwatch --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    $run_as "$bin/pg_ctl" -D "$PG_SCRATCH/data" -l "$PG_SCRATCH/log" -w \
        -o "-p $port -k $PG_SCRATCH -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    $run_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U ntmwatch ntmwatch
    export NTMWATCH_TEST_POSTGRES_URL="postgres://ntmwatch@127.0.0.1:$port/ntmwatch?sslmode=disable"
    PG_BIN=$bin
    PG_RUN_AS=$run_as
}

postgres_scratch_stop() {
    [ -n "${PG_SCRATCH:-}" ] || return 0
    $PG_RUN_AS "$PG_BIN/pg_ctl" -D "$PG_SCRATCH/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_SCRATCH"
    PG_SCRATCH=""
}

#!/bin/sh
# The test command: installs what is missing, starts a throw-away PostgreSQL on loopback,
# builds and runs every test suite. Run as root on a fresh machine (journald and apt need it).
set -eu
cd "$(dirname "$0")/.."
scripts/ensure-packages.sh libsystemd-dev pkg-config systemd postgresql
. scripts/postgres-scratch.sh
postgres_scratch_start
trap postgres_scratch_stop EXIT INT TERM
swift build --build-tests
swift test --skip-build "$@"

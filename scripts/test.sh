#!/bin/sh
# The test command: installs what is missing, starts a standalone journald (when none runs) and a
# throw-away PostgreSQL on loopback, builds, and runs every test suite. Run it as root on a fresh
# machine: apt-get and journald need it. Extra arguments go to `swift test` (e.g. --filter Store).
set -eu
cd "$(dirname "$0")/.."
scripts/ensure-packages.sh libsystemd-dev libsqlite3-dev pkg-config systemd postgresql monitoring-plugins-basic curl prometheus \
    poppler-utils prometheus-alertmanager python3 openssl python3-openpyxl libreoffice-calc-nogui
# The e-mail and digest tests' peers: msmtp (the sendmail interface), an SMTP server (aiosmtpd),
# and a browser with Vietnamese glyphs that renders digests and drives the web console's pages.
scripts/ensure-packages.sh msmtp python3-aiosmtpd chromium fonts-noto-core python3-websockets
. scripts/postgres-scratch.sh

journald_pid=""
if [ "$(id -u)" -eq 0 ] && ! pgrep -x systemd-journal >/dev/null; then
    mkdir -p /run/systemd/journal
    /lib/systemd/systemd-journald >/dev/null 2>&1 &
    journald_pid=$!
fi
cleanup() {
    postgres_scratch_stop
    [ -n "$journald_pid" ] && kill "$journald_pid" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
postgres_scratch_start

swift build --build-tests
swift test --skip-build "$@"

#!/bin/sh
# The quick start: builds the daemon and the check modules, installs the modules into a folder
# only its owner can write (the daemon refuses others), and runs the daemon on the sample
# province with Config/quickstart.yaml. Extra arguments go to ntmwatchd (e.g. --once --at 2024-11-05).
set -eu
cd "$(dirname "$0")/.."
scripts/ensure-packages.sh libsystemd-dev libsqlite3-dev pkg-config
swift build -c release
bin=$(swift build -c release --show-bin-path)
install -d -m 0755 .build-sample .build-sample/modules
# Every check module the package builds (products named ntmwatch-<module>).
install -m 0644 "$bin"/libntmwatch-*.so .build-sample/modules/
# And the SQL rule modules shipped as examples.
install -m 0644 Config/modules/*.sql.yaml .build-sample/modules/
exec "$bin/ntmwatchd" --config Config/quickstart.yaml "$@"

#!/bin/sh
# Builds the Debian package: `Deploy/build-deb.sh [OUTPUT_DIR]` → ntmwatch_VERSION_ARCH.deb.
# Prints the package's size and its installed size.
set -eu
cd "$(dirname "$0")/.."
scripts/ensure-packages.sh libsystemd-dev libsqlite3-dev pkg-config patchelf
out=${1:-.build-deb}
version=$(cat Deploy/VERSION)
arch=$(dpkg --print-architecture)
swift build -c release
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage/root" PREFIX=/usr Deploy/install.sh "$(swift build -c release --show-bin-path)"

install -d -m 0755 "$stage/root/DEBIAN"
installed=$(du -sk "$stage/root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed/" \
    Deploy/debian/control > "$stage/root/DEBIAN/control"
install -m 0644 Deploy/debian/conffiles "$stage/root/DEBIAN/"
install -m 0755 Deploy/debian/postinst Deploy/debian/prerm Deploy/debian/postrm "$stage/root/DEBIAN/"

mkdir -p "$out"
package="$out/ntmwatch_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage/root" "$package" >/dev/null
echo "$package: package $(du -k "$package" | cut -f1) KiB, installed $installed KiB"

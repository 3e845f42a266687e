#!/bin/sh
# Installs a release build of ntmwatch: `Deploy/install.sh [BUILD_DIR]`, honouring DESTDIR and
# PREFIX (default /usr). Configuration goes to $DESTDIR/etc/ntmwatch, systemd files under
# $DESTDIR/lib/systemd and $PREFIX/lib/{sysusers.d,tmpfiles.d}. The Swift runtime the binaries need
# is copied next to the SDK in $PREFIX/lib/ntmwatch and found through a relative RUNPATH, so the
# result runs where no Swift toolchain is installed. Needs patchelf.
set -eu
cd "$(dirname "$0")/.."
build=${1:-$(swift build -c release --show-bin-path)}
prefix=${PREFIX:-/usr}
dest=${DESTDIR:-}
lib="$dest$prefix/lib/ntmwatch"

install -d -m 0755 "$dest$prefix/bin" "$lib" "$lib/modules" "$dest/etc/ntmwatch" "$dest/etc/ntmwatch/modules" \
    "$dest/lib/systemd/system" "$dest$prefix/lib/sysusers.d" "$dest$prefix/lib/tmpfiles.d" \
    "$dest$prefix/lib/systemd/catalog" "$dest$prefix/share/ntmwatch/sample" "$dest$prefix/share/ntmwatch/modules" \
    "$dest$prefix/share/doc/ntmwatch/modules"

install -m 0755 "$build/ntmwatchd" "$build/ntmwatch" "$dest$prefix/bin/"
install -m 0644 "$build/libCheckKit.so" "$lib/"
for module in "$build"/libntmwatch-*.so; do install -m 0644 "$module" "$lib/modules/"; done

# The Swift runtime: every library the binaries and modules load from the toolchain.
toolchain=$(dirname "$(readlink -f "$(command -v swiftc)")")/../lib/swift/linux
for binary in "$build/ntmwatchd" "$build/ntmwatch" "$build/libCheckKit.so" "$build"/libntmwatch-*.so; do
    ldd "$binary" | awk '{print $3}' | grep "^$(readlink -f "$toolchain")/" || true
done | sort -u | while read -r runtime; do install -m 0644 "$runtime" "$lib/"; done

# Debug information is most of a release binary's size and nothing at run time.
strip --strip-unneeded "$dest$prefix/bin/ntmwatchd" "$dest$prefix/bin/ntmwatch" "$lib"/*.so* "$lib"/modules/*.so

# Relative RUNPATHs: the binaries look in ../lib/ntmwatch, the SDK and runtime in their own
# folder, the modules in their parent.
patchelf --set-rpath '$ORIGIN/../lib/ntmwatch' "$dest$prefix/bin/ntmwatchd" "$dest$prefix/bin/ntmwatch"
for library in "$lib"/*.so*; do patchelf --set-rpath '$ORIGIN' "$library"; done
for module in "$lib"/modules/*.so; do patchelf --set-rpath '$ORIGIN/..' "$module"; done

sed "s#/usr/bin/ntmwatchd#$prefix/bin/ntmwatchd#" Deploy/systemd/ntmwatchd.service > "$dest/lib/systemd/system/ntmwatchd.service"
chmod 0644 "$dest/lib/systemd/system/ntmwatchd.service"
install -m 0644 Deploy/sysusers.d/ntmwatch.conf "$dest$prefix/lib/sysusers.d/"
install -m 0644 Deploy/tmpfiles.d/ntmwatch.conf "$dest$prefix/lib/tmpfiles.d/"
install -m 0644 Deploy/catalog/ntmwatch.catalog "$dest$prefix/lib/systemd/catalog/"
if [ ! -e "$dest/etc/ntmwatch/ntmwatch.yaml" ]; then
    sed -e "s#/usr/lib/ntmwatch#$prefix/lib/ntmwatch#g" -e "s#/usr/share/ntmwatch#$prefix/share/ntmwatch#g" \
        Config/ntmwatch.yaml > "$dest/etc/ntmwatch/ntmwatch.yaml"
    chmod 0644 "$dest/etc/ntmwatch/ntmwatch.yaml"
fi
install -m 0644 Config/sample/*.csv Config/sample/README.md "$dest$prefix/share/ntmwatch/sample/"
install -D -m 0644 -t "$dest$prefix/share/ntmwatch/sample/ha-tinh" Config/sample/ha-tinh/*.csv
install -m 0644 Config/modules/*.sql.yaml "$dest$prefix/share/ntmwatch/modules/"
install -m 0644 README.md "$dest$prefix/share/doc/ntmwatch/"
for plugin in Plugins/*/; do
    name=$(basename "$plugin")
    install -d -m 0755 "$dest$prefix/share/doc/ntmwatch/modules/$name"
    install -m 0644 "$plugin/README.md" "$plugin/$name.yaml" "$dest$prefix/share/doc/ntmwatch/modules/$name/"
done

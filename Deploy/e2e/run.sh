#!/bin/sh
# End-to-end under a real systemd: builds the package, installs it into a clean Debian root with
# no Swift toolchain (debootstrap, cached in /var/cache/ntmwatch-e2e), boots that root with
# systemd-nspawn and lets Deploy/e2e/driver.sh check the service from inside. Needs root.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "Deploy/e2e/run.sh needs root (debootstrap, systemd-nspawn)" >&2; exit 2; }
scripts/ensure-packages.sh debootstrap systemd-container patchelf
# The package's Depends beyond minbase, since dpkg -i resolves nothing; the cache is keyed by the list.
# msmtp-mta is the package's Recommends (the e-mail receiver's sendmail); python3-aiosmtpd the
# test's SMTP capture.
include=systemd,systemd-sysv,dbus,libstdc++6,procps,libsqlite3-0,libxml2,msmtp,msmtp-mta,python3-aiosmtpd
cache=/var/cache/ntmwatch-e2e/bookworm-$(echo "$include" | md5sum | cut -c1-8)
# The Debian mirror this machine's apt already uses (deb822 sources, then sources.list), unless
# DEBIAN_MIRROR names one: no mirror is written into the project.
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)}
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
if [ ! -x "$cache/lib/systemd/systemd" ]; then
    [ -n "$mirror" ] || { echo "no Debian mirror in apt's sources; set DEBIAN_MIRROR" >&2; exit 2; }
    rm -rf "$cache.tmp"
    debootstrap --variant=minbase --include="$include" \
        bookworm "$cache.tmp" "$mirror" >/dev/null
    mv "$cache.tmp" "$cache"
fi
work=$(mktemp -d /var/tmp/ntmwatch-e2e.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
built=$(Deploy/build-deb.sh "$work/deb" | tail -n 1)
echo "$built"
package=${built%%:*}
cp -a "$cache" "$work/root"
systemd-nspawn -q --register=no --keep-unit --machine=ntmwatch-e2e -D "$work/root" --bind-ro="$(readlink -f "$package"):/ntmwatch.deb" \
    dpkg -i /ntmwatch.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; exit 1; }
[ -x "$work/root/usr/bin/swift" ] && { echo "the test root has a Swift toolchain" >&2; exit 1; }
# The unit as installed: clean under systemd-analyze verify, exposure 2.0 or lower.
analysis=$(systemd-nspawn -q --register=no --keep-unit --machine=ntmwatch-e2e -D "$work/root" sh -c \
    'systemd-analyze verify /lib/systemd/system/ntmwatchd.service 2>&1; systemd-analyze security --offline=yes /lib/systemd/system/ntmwatchd.service 2>&1 | tail -n 1')
echo "$analysis"
exposure=$(echo "$analysis" | sed -n 's/.*Overall exposure level for ntmwatchd.service: \([0-9.]*\).*/\1/p')
[ "$(echo "$analysis" | wc -l)" -eq 1 ] || { echo "FAIL systemd-analyze verify is not clean" >&2; exit 1; }
awk "BEGIN { exit !($exposure <= 2.0) }" || { echo "FAIL exposure $exposure > 2.0" >&2; exit 1; }
install -m 0644 Deploy/e2e/ntmwatch.yaml "$work/root/etc/ntmwatch/ntmwatch.yaml"
install -d "$work/root/etc/systemd/system/ntmwatchd.service.d"
install -m 0644 Deploy/e2e/ntmwatchd-test.conf "$work/root/etc/systemd/system/ntmwatchd.service.d/test.conf"
install -m 0644 Deploy/e2e/ntmwatch-e2e.service Deploy/e2e/ntmwatch-e2e-smtp.service "$work/root/etc/systemd/system/"
install -m 0644 Deploy/e2e/msmtprc "$work/root/etc/ntmwatch/msmtprc"
install -m 0755 Deploy/e2e/driver.sh "$work/root/usr/local/bin/ntmwatch-e2e-driver"
mkdir -p "$work/results"
timeout 300 systemd-nspawn -q --register=no --keep-unit --machine=ntmwatch-e2e -D "$work/root" --bind="$work/results:/results" \
    --bind-ro="$(readlink -f "$package"):/ntmwatch.deb" \
    --boot -- systemd.firstboot=off systemd.wants=ntmwatch-e2e.service >"$work/console.log" 2>&1 || true
cat "$work/results/results.txt" 2>/dev/null || { tail -40 "$work/console.log"; exit 1; }
grep -q '^DONE' "$work/results/results.txt" && ! grep -q '^FAIL' "$work/results/results.txt"

#!/bin/sh
# Runs inside the booted container (as ntmwatch-e2e.service) and writes PASS/FAIL lines and
# figures to /results/results.txt for Deploy/e2e/run.sh, then powers the container off.
out=/results/results.txt
: > "$out"
pass() { echo "PASS $1" >> "$out"; }
fail() { echo "FAIL $1: $2" >> "$out"; }
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "$*"; fi; }
figure() { echo "FIGURE $1 $2" >> "$out"; }
show() { systemctl show -P "$1" ntmwatchd.service; }
# wait_for SECONDS CONDITION: true as soon as the shell condition holds, false after SECONDS.
wait_for() { i=0; while [ $i -lt "$1" ]; do sh -c "$2" >/dev/null 2>&1 && return 0; sleep 1; i=$((i + 1)); done; return 1; }
firing() { journalctl -u ntmwatchd -o cat --output-fields=NTMWATCH_STATE NTMWATCH_STATE=firing | wc -l; }

# Type=notify: active only once READY=1 arrived.
wait_for 60 "systemctl is-active --quiet ntmwatchd" && pass "active (running) after READY=1" || fail "active" "$(systemctl status ntmwatchd --no-pager | head -20)"
[ "$(show Type)" = notify ] && pass "Type=notify" || fail "Type" "$(show Type)"
start=$(show ExecMainStartTimestampMonotonic); ready=$(show ActiveEnterTimestampMonotonic)
figure start_to_ready_ms $(( (ready - start) / 1000 ))
journalctl -u ntmwatchd -o cat | grep -q "ntmwatchd ready" && pass "ready logged" || fail "ready logged" "no 'ntmwatchd ready' in the journal"

# Alerts of the sample data in the journal, with their fields and the catalog text.
wait_for 60 "journalctl -u ntmwatchd NTMWATCH_RULE=deadline.overdue -o cat | grep -q ." && pass "sample alerts in journald" || fail "sample alerts" "no deadline.overdue entry"
journalctl -u ntmwatchd -o json NTMWATCH_RULE=debt.recognized_unit_has_debt | grep -q '"NTMWATCH_DEBT_VND"' && pass "NTMWATCH_* fields" || fail "fields" "no NTMWATCH_DEBT_VND"
journalctl -x -u ntmwatchd NTMWATCH_RULE=deadline.overdue --no-pager -n 1 | grep -q "Cần làm gì" && pass "journalctl -x shows the catalog" || fail "catalog" "$(journalctl -x -u ntmwatchd NTMWATCH_RULE=deadline.overdue --no-pager -n 1 | head -5)"

# Webhook files with the service's ownership and mode.
wait_for 30 "ls /var/spool/ntmwatch/province/*.json" || true
modes=$(stat -c '%U:%G %a' /var/spool/ntmwatch/province/*.json 2>/dev/null | sort -u | tr '\n' ' ')
[ "$modes" = "ntmwatch:ntmwatch 640 " ] && pass "webhook files owned ntmwatch, mode 640" || fail "webhook files" "'$modes'"

# E-mail: the office-mail receiver hands each group to msmtp (msmtp-mta's sendmail, not setgid, so
# it works under NoNewPrivileges=yes and the unit's sandbox), which sends it to the SMTP capture.
wait_for 60 "ls /var/tmp/e2e-mail/new/* | grep -q ." && pass "e-mail: a message reached the SMTP server through msmtp" \
    || fail "e-mail" "$(journalctl -u ntmwatchd -o cat | grep -i 'office-mail' | tail -3)"
check_mail() {
    /usr/bin/python3 - "$1" <<'PYTHON'
import email, email.policy, mailbox, sys
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
messages = [box.get_bytes(key) for key in box.keys()]
assert messages, "no message"
ids = []
for data in messages:
    raw = email.message_from_bytes(data, policy=email.policy.compat32)
    m = email.message_from_bytes(data, policy=email.policy.default)
    assert m["From"] == "ntmwatch@e2e.example" and m["To"] == "vp@tinh.example", (m["From"], m["To"])
    assert str(m["Subject"]).startswith("[ntmwatch] ") and "cảnh báo" in str(m["Subject"]), m["Subject"]
    assert raw["Subject"].startswith("=?UTF-8?"), raw["Subject"]
    assert m.get_content_type() == "multipart/alternative", m.get_content_type()
    assert [p.get_content_type() for p in m.iter_parts()] == ["text/plain", "text/html"]
    assert m["X-NTMWatch-Receiver"] == "office-mail" and m["Message-ID"].endswith(".ntmwatch>"), m["Message-ID"]
    ids += [i.strip() for i in str(m["X-NTMWatch-Notification-IDs"]).split(",") if i.strip()]
assert ids and len(ids) == len(set(ids)), "a notification id in two messages"
print(len(messages), "messages,", len(ids), "notifications")
PYTHON
}
mail=$(check_mail /var/tmp/e2e-mail 2>&1) && pass "e-mail: UTF-8 subject, From/To, multipart plain+HTML, notification ids ($mail)" || fail "e-mail headers" "$mail"

# The watchdog is fed (WatchdogSec=4s in the test drop-in: a missed ping would restart it).
sleep 9
[ "$(show NRestarts)" = 0 ] && [ "$(show WatchdogTimestampMonotonic)" -gt "$ready" ] && pass "watchdog fed" || fail "watchdog" "NRestarts=$(show NRestarts) WatchdogTimestamp=$(show WatchdogTimestampMonotonic) ready=$ready"

# systemctl reload applies a changed configuration: a new SQL module and a new instance name.
install -m 0644 /usr/share/ntmwatch/modules/model-villages-without-review.sql.yaml /etc/ntmwatch/modules/
sed -i 's/^instance: .*/instance: e2e-reloaded/' /etc/ntmwatch/ntmwatch.yaml
systemctl reload ntmwatchd
wait_for 30 "journalctl -u ntmwatchd NTMWATCH_RULE=village_review.not_reviewed NTMWATCH_INSTANCE=e2e-reloaded -o cat | grep -q ." \
    && pass "reload applies a changed config" || fail "reload" "no village_review alert from instance e2e-reloaded"

# A broken configuration on reload: logged, the service keeps running on the old one.
cp /etc/ntmwatch/ntmwatch.yaml /tmp/good.yaml
printf 'instance: [broken\n' >> /etc/ntmwatch/ntmwatch.yaml
systemctl reload ntmwatchd
sleep 2
systemctl is-active --quiet ntmwatchd && pass "broken config: still running" || fail "broken config" "$(systemctl status ntmwatchd --no-pager | head)"
journalctl -u ntmwatchd -o cat | grep -q "ntmwatch.yaml:" && pass "broken config: error names the file and line" || fail "broken config error" "no file:line in the log"
cp /tmp/good.yaml /etc/ntmwatch/ntmwatch.yaml

figure idle_rss_kib "$(ps -o rss= -C ntmwatchd | head -1 | tr -d ' ')"

# Restart: no alert notified twice.
before=$(firing)
systemctl restart ntmwatchd
wait_for 30 "systemctl is-active --quiet ntmwatchd"
sleep 8
after=$(firing)
[ "$before" = "$after" ] && pass "restart: nothing notified twice ($before firing notifications)" || fail "restart duplicates" "$before before, $after after"

# SIGKILL: systemd restarts it, and nothing is lost or repeated.
restarts=$(show NRestarts)
systemctl kill -s KILL ntmwatchd
wait_for 30 "[ \$(systemctl show -P NRestarts ntmwatchd) -gt $restarts ] && systemctl is-active --quiet ntmwatchd" \
    && pass "SIGKILL: restarted by systemd" || fail "SIGKILL" "NRestarts=$(show NRestarts) state=$(systemctl is-active ntmwatchd)"
sleep 8
[ "$(firing)" = "$after" ] && pass "SIGKILL: nothing notified twice" || fail "SIGKILL duplicates" "$after before, $(firing) after"
[ -s /var/lib/ntmwatch/alerts.sqlite ] && pass "alert state kept" || fail "alert state" "missing /var/lib/ntmwatch/alerts.sqlite"

# An upgrade (the same package again goes through the upgrade path: prerm upgrade, postinst
# configure OLD-VERSION) keeps the configuration, the operator's modules, the store and the alert
# state, restarts the service, and notifies nothing twice.
kept() { md5sum /etc/ntmwatch/ntmwatch.yaml /etc/ntmwatch/modules/* | md5sum; }
configuration=$(kept); pid=$(show MainPID); before=$(firing)
dpkg -i /ntmwatch.deb > /tmp/upgrade.log 2>&1 && pass "upgrade installs" || fail "upgrade" "$(tail -5 /tmp/upgrade.log)"
[ "$(kept)" = "$configuration" ] && pass "upgrade keeps the configuration and modules" || fail "upgrade config" "changed"
[ -s /var/lib/ntmwatch/store.sqlite ] && [ -s /var/lib/ntmwatch/alerts.sqlite ] && pass "upgrade keeps the store and alert state" || fail "upgrade state" "$(ls -la /var/lib/ntmwatch)"
wait_for 30 "systemctl is-active --quiet ntmwatchd && [ \$(systemctl show -P MainPID ntmwatchd) != $pid ]" \
    && pass "upgrade restarts the service" || fail "upgrade restart" "MainPID $pid → $(show MainPID)"
sleep 8
[ "$(firing)" = "$before" ] && pass "upgrade: nothing notified twice" || fail "upgrade duplicates" "$before before, $(firing) after"

mail=$(check_mail /var/tmp/e2e-mail 2>&1) && pass "e-mail: nothing sent twice across restarts, SIGKILL and upgrade ($mail)" || fail "e-mail duplicates" "$mail"

# Clean stop.
systemctl stop ntmwatchd
[ "$(show Result)" = success ] && [ "$(show ExecMainStatus)" = 0 ] && pass "systemctl stop exits cleanly" || fail "stop" "Result=$(show Result) status=$(show ExecMainStatus)"
journalctl -u ntmwatchd -o cat | grep -q "ntmwatchd stopped" && pass "stop logged" || fail "stop logged" "no 'ntmwatchd stopped'"

echo DONE >> "$out"
systemctl poweroff

"""Prints, as JSON, every message an aiosmtpd Mailbox handler stored in a maildir, parsed with
Python's email package: the raw and decoded headers, the envelope recipients and each part.
Usage: /usr/bin/python3 parse_mail.py MAILDIR"""
import email
import email.policy
import json
import mailbox
import sys

box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
messages = []
for key in sorted(box.keys()):
    data = box.get_bytes(key)
    raw = email.message_from_bytes(data, policy=email.policy.compat32)
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    parts = []
    for part in (parsed.iter_parts() if parsed.is_multipart() else [parsed]):
        parts.append({
            "type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    messages.append({
        "raw_subject": raw["Subject"],
        "subject": str(parsed["Subject"]),
        "from": str(parsed["From"]),
        "to": [address.addr_spec for address in parsed["To"].addresses],
        "rcpt_to": [r.strip() for r in str(parsed["X-RcptTo"]).split(",")],
        "message_id": str(parsed["Message-ID"]),
        "notification_ids": [i.strip() for i in str(parsed["X-NTMWatch-Notification-IDs"]).split(",")],
        "content_type": parsed.get_content_type(),
        "defects": [type(d).__name__ for d in parsed.defects],
        "parts": parts,
    })
json.dump(messages, sys.stdout, ensure_ascii=False)

#!/usr/bin/python3
"""A webhook receiver on loopback that misbehaves on purpose, for ntmwatch's tests and fault benchmark.

It verifies every request's HMAC-SHA256 signature (X-NTMWatch-Timestamp, X-NTMWatch-Signature:
sha256=HEX over TIMESTAMP + "." + BODY) and answers 401 to a bad one; it counts the notification
ids it accepted (X-NTMWatch-Notification-IDs) and the duplicates among them (the same id accepted
twice). An id counts as accepted only when a 2xx answer was written for it.

It is idempotent as ntmwatch's README asks of a receiver: a request whose Idempotency-Key it has
already taken is answered 200 and counted as a replay, its ids are not taken again. A sender that
put one notification into two requests with different keys would still show as a duplicate.

Misbehaviour, chosen per request: first from a script (POST /control {"script": [...]}: each step
is "ok", "500", "429:SECONDS", "503:SECONDS", "hang-before", "hang-after" or "take-then-hang"),
then at random with the shares given on the command line. "hang-before" stops before reading the
body, "hang-after" after it; both wait --hang-seconds and close the connection without an answer.
"take-then-hang" takes the ids (as a receiver that stored them and then lost its answer) and then
hangs likewise: the sender cannot know it was taken, and sends it again.

GET /counts answers JSON: requests, accepted, duplicates, replays, bad_signatures, ids (id -> times accepted),
log (one entry per request: time, outcome, ids) and, with --keep-bodies, the accepted bodies.
The first line on stdout is the port.
"""
import argparse
import hashlib
import hmac
import json
import random
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret-file", help="the HMAC key; unsigned requests are refused when set")
    parser.add_argument("--fail", type=float, default=0.0, help="share of 500 answers")
    parser.add_argument("--throttle", type=float, default=0.0, help="share of 429 answers")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds in Retry-After of a random 429")
    parser.add_argument("--hang-before", type=float, default=0.0, help="share of hangs before reading the body")
    parser.add_argument("--hang-after", type=float, default=0.0, help="share of hangs after reading the body")
    parser.add_argument("--take-then-hang", type=float, default=0.0,
                        help="share of requests taken and then left without an answer")
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    parser.add_argument("--max-age", type=int, default=300, help="oldest timestamp accepted, in seconds")
    parser.add_argument("--keep-bodies", action="store_true", help="list the accepted bodies in /counts")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()

    secret = None
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")
    rng = random.Random(args.seed)
    lock = threading.Lock()
    state = {"requests": 0, "accepted": 0, "duplicates": 0, "replays": 0, "bad_signatures": 0, "ids": {}, "log": [],
             "bodies": [], "script": [], "keys": {}}

    def next_outcome():
        with lock:
            if state["script"]:
                return state["script"].pop(0)
        roll = rng.random()
        for share, outcome in ((args.fail, "500"), (args.throttle, "429:%d" % args.retry_after),
                               (args.hang_before, "hang-before"), (args.hang_after, "hang-after"),
                               (args.take_then_hang, "take-then-hang")):
            if roll < share:
                return outcome
            roll -= share
        return "ok"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def answer(self, status, body=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self):
            if self.path != "/counts":
                return self.answer(404)
            with lock:
                body = json.dumps({k: v for k, v in state.items() if k not in ("script", "keys")}).encode()
            self.answer(200, body, [("Content-Type", "application/json")])

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            if self.path == "/control":
                script = json.loads(self.rfile.read(length))["script"]
                with lock:
                    state["script"] = list(script)
                return self.answer(204)
            ids = [i for i in self.headers.get("X-NTMWatch-Notification-IDs", "").split(",") if i]
            outcome = next_outcome()
            entry = {"time": time.time(), "outcome": outcome, "ids": ids}
            with lock:
                state["requests"] += 1
                state["log"].append(entry)
            if outcome == "hang-before":
                time.sleep(args.hang_seconds)
                self.close_connection = True
                return
            body = self.rfile.read(length)
            if secret is not None and not self.signed(body):
                with lock:
                    state["bad_signatures"] += 1
                entry["outcome"] = "401"
                return self.answer(401, b"bad signature")
            try:
                document = json.loads(body)
            except ValueError:
                entry["outcome"] = "400"
                return self.answer(400, b"not JSON")
            key = self.headers.get("Idempotency-Key")
            with lock:
                replayed = key is not None and key in state["keys"]
            if replayed:
                with lock:
                    state["replays"] += 1
                entry["outcome"] = "replay"
                return self.answer(200, b"already taken")
            if outcome == "take-then-hang":
                self.take(key, ids, document)
                time.sleep(args.hang_seconds)
                self.close_connection = True
                return
            if outcome == "hang-after":
                time.sleep(args.hang_seconds)
                self.close_connection = True
                return
            if outcome == "500":
                return self.answer(500, b"flaky")
            if outcome.startswith("429:") or outcome.startswith("503:"):
                status, seconds = outcome.split(":", 1)
                return self.answer(int(status), b"later", [("Retry-After", seconds)])
            try:
                self.answer(200, b"ok")
            except OSError:
                entry["outcome"] = "lost"
                return
            self.take(key, ids, document)

        def take(self, key, ids, document):
            with lock:
                if key is not None:
                    state["keys"][key] = True
                if args.keep_bodies:
                    state["bodies"].append(document)
                for i in ids:
                    seen = state["ids"].get(i, 0)
                    state["ids"][i] = seen + 1
                    state["accepted"] += 1
                    if seen:
                        state["duplicates"] += 1

        def signed(self, body):
            timestamp = self.headers.get("X-NTMWatch-Timestamp", "")
            signature = self.headers.get("X-NTMWatch-Signature", "")
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > args.max_age:
                return False
            expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()

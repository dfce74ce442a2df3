#!/usr/bin/env python3
"""A webhook receiver for crcr's e2e tests: verifies every X-Hub-Signature-256 with SECRET,
counts deliveries by X-GitHub-Delivery and records arrival times.

    receiver.py PORT_FILE [DELAY_MS]

Listens on 127.0.0.1 (a free port, written to PORT_FILE). GET /stats answers
{"counts": {id: n}, "bad_signatures": [...], "times": [...], "bodies": {id: body}} (bodies only
for the first 50 deliveries)."""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["SECRET"].encode()
DELAY = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
lock = threading.Lock()
counts, bad, times, bodies = {}, [], [], {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with lock:
            body = json.dumps({"counts": counts, "bad_signatures": bad, "times": times, "bodies": bodies}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if DELAY:
            time.sleep(DELAY)
        delivery = self.headers.get("X-GitHub-Delivery", "?")
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        with lock:
            if not hmac.compare_digest(expected, self.headers.get("X-Hub-Signature-256", "")):
                bad.append(delivery)
            counts[delivery] = counts.get(delivery, 0) + 1
            times.append(time.monotonic())
            if len(bodies) < 50:
                bodies[delivery] = body.decode("utf-8")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the kill -9 test) is expected


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()

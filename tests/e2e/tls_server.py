#!/usr/bin/env python3
"""An https:// server for crcr's e2e tests: answers every request 200 {"ok": true} and appends
its method and path to LOG_FILE.

    tls_server.py PORT_FILE CERT_FILE KEY_FILE LOG_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE). A client that does not trust the
certificate fails its handshake and never gets as far as a request."""
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, CERT_FILE, KEY_FILE, LOG_FILE = sys.argv[1:5]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock, open(LOG_FILE, "a") as log:
            log.write(f"{self.command} {self.path}\n")
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # handshakes refused by untrusting clients


server = Server(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT_FILE, KEY_FILE)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()

#!/usr/bin/env python3
"""GitHub's releases, as scripts/install-release.sh (crcr's action) meets them, for its e2e test.

    fake_releases.py PORT_FILE ASSETS_DIR REPOSITORY TAG...

Two servers on 127.0.0.1: the API (its port on PORT_FILE's first line) and the download host
(second line), as api.github.com and objects.githubusercontent.com. The API answers
GET /repos/REPOSITORY/releases/tags/TAG and /releases/latest (the last TAG) with the release JSON,
whose assets are the files of ASSETS_DIR/TAG; GET /repos/REPOSITORY/releases/assets/ID with
`Accept: application/octet-stream` answers 302 to the download host, which serves the file and
refuses (403) any request that carries an Authorization header, since GitHub's token must not
leak there. Anything else is 404 {"message": "Not Found"}. Every request is logged on stderr."""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, assets_dir, repository, tags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
assets = []  # (id, tag, name)
for tag in tags:
    for name in sorted(os.listdir(os.path.join(assets_dir, tag))):
        assets.append((len(assets) + 1, tag, name))


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        auth = "with token" if self.headers.get("Authorization") else "no token"
        sys.stderr.write(f"{self.server.name}: {self.command} {self.path} ({auth})\n")

    def answer(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class Api(Base):
    def release(self, tag):
        base = f"http://127.0.0.1:{api.server_port}/repos/{repository}/releases"
        return {
            "id": tags.index(tag) + 1,
            "tag_name": tag,
            "name": tag,
            "draft": False,
            "prerelease": False,
            "assets": [
                {
                    "id": i,
                    "name": name,
                    "url": f"{base}/assets/{i}",
                    "browser_download_url": f"http://127.0.0.1:{downloads.server_port}/{tag}/{name}",
                    "content_type": "application/octet-stream",
                    "size": os.path.getsize(os.path.join(assets_dir, tag, name)),
                    "state": "uploaded",
                }
                for i, t, name in assets
                if t == tag
            ],
        }

    def do_GET(self):
        prefix = f"/repos/{repository}/releases/"
        path = self.path
        if path == prefix + "latest":
            return self.answer(200, self.release(tags[-1]))
        if path.startswith(prefix + "tags/") and path[len(prefix) + 5 :] in tags:
            return self.answer(200, self.release(path[len(prefix) + 5 :]))
        if path.startswith(prefix + "assets/"):
            for i, tag, name in assets:
                if path == f"{prefix}assets/{i}":
                    if self.headers.get("Accept") != "application/octet-stream":
                        return self.answer(200, {"id": i, "name": name})
                    location = f"http://127.0.0.1:{downloads.server_port}/{tag}/{name}"
                    return self.answer(302, b"", "text/plain", [("Location", location)])
        self.answer(404, {"message": "Not Found"})


class Downloads(Base):
    def do_GET(self):
        if self.headers.get("Authorization"):
            return self.answer(403, b"a token reached the download host", "text/plain")
        for _, tag, name in assets:
            if self.path == f"/{tag}/{name}":
                with open(os.path.join(assets_dir, tag, name), "rb") as f:
                    return self.answer(200, f.read(), "application/octet-stream")
        self.answer(404, b"not found", "text/plain")


api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
api.name = "api"
downloads = ThreadingHTTPServer(("127.0.0.1", 0), Downloads)
downloads.name = "downloads"
threading.Thread(target=downloads.serve_forever, daemon=True).start()
with open(port_file + ".tmp", "w") as f:
    f.write(f"{api.server_port}\n{downloads.server_port}\n")
os.rename(port_file + ".tmp", port_file)
api.serve_forever()

"""The web app of the analysis-gate tests (t_checks*.sh): serves the
release in DIR (releases_dir/current, resolved at start, as a restarted
service would) on 127.0.0.1:PORT. /health is 200 when the release has a
`health` file; /metrics exports http_requests_total by code (both codes
from 0, as client libraries do); any other path answers the release's
index.html, or 500 for the share of requests the release's `error_rate`
file names (0.2: one in five), or that HOSTDIR/error_rate-VERSION names
when the optional third argument HOSTDIR has one: one host made bad."""
import http.server
import os
import random
import sys
import threading

port, root = int(sys.argv[1]), os.path.realpath(sys.argv[2])
counts = {"200": 0, "500": 0}
lock = threading.Lock()


def release_file(name):
    try:
        with open(os.path.join(root, name)) as f:
            return f.read()
    except OSError:
        return None


error_rate = float(release_file("error_rate") or 0)
if len(sys.argv) > 3:
    try:
        with open(os.path.join(sys.argv[3], "error_rate-" + os.path.basename(root))) as f:
            error_rate = float(f.read())
    except OSError:
        pass
index = (release_file("index.html") or "").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body, ctype="text/html"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/metrics":
            with lock:
                lines = ["# TYPE http_requests_total counter"]
                lines += ['http_requests_total{code="%s"} %d' % kv for kv in sorted(counts.items())]
            self.answer(200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")
        elif self.path == "/health":
            ok = release_file("health") is not None
            self.answer(200 if ok else 404, b"ok\n" if ok else b"no\n")
        else:
            code = 500 if random.random() < error_rate else 200
            with lock:
                counts[str(code)] += 1
            self.answer(code, index if code == 200 else b"error\n")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()

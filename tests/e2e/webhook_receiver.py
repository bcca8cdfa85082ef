"""The webhook receiver of t_webhooks.sh: listens on 127.0.0.1:PORT and
appends one JSON line per POST to LOG: the path (the webhook's name), the
X-Rollclone-* headers, whether the signature is the HMAC-SHA256 of the body
under that webhook's secret (checked here with Python's hmac, not
rollclone's code), the status answered and the body. Answers 200 unless
told otherwise: ANSWERS is "/path=500,500" (those first, then 200) or
"/path=400*" (always 400), several separated by ';'.

usage: webhook_receiver.py PORT LOG SECRETS ANSWERS
SECRETS: "/path=secret;/other=secret2" (%-escapes decoded: %3B for ';') """
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import urllib.parse

port, log_path = int(sys.argv[1]), sys.argv[2]


def pairs(text):
    out = {}
    for item in filter(None, text.split(";")):
        path, _, value = item.partition("=")
        out[path] = urllib.parse.unquote(value)
    return out


secrets = pairs(sys.argv[3])
answers = {}
for path, spec in pairs(sys.argv[4] if len(sys.argv) > 4 else "").items():
    answers[path] = ("always", int(spec[:-1])) if spec.endswith("*") else \
        ("list", [int(s) for s in spec.split(",")])
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        secret = secrets.get(self.path, "").encode()
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Rollclone-Signature", "")
        with lock:
            status = 200
            rule = answers.get(self.path)
            if rule and rule[0] == "always":
                status = rule[1]
            elif rule and rule[1]:
                status = rule[1].pop(0)
            record = {
                "path": self.path,
                "delivery": self.headers.get("X-Rollclone-Delivery"),
                "event": self.headers.get("X-Rollclone-Event"),
                "content_type": self.headers.get("Content-Type"),
                "sig_ok": bool(secret) and hmac.compare_digest(want, got),
                "status": status,
                "received_ms": int(time.time() * 1000),
                "body": body.decode("utf-8", "replace"),
            }
            with open(log_path, "a") as log:
                log.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"no")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()

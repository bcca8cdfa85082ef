"""The web app of the load balancer tests: serves DIR (the release's
current/) on 127.0.0.1:PORT like python3 -m http.server, one thread per
request, plus /slow?s=SECONDS, which answers 200 with the version after
that long (at most 30 s): a session in flight while an agent drains."""
import http.server
import os
import sys
import time
import urllib.parse

port, root = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=root, **kwargs)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/slow":
            return super().do_GET()
        secs = min(float(urllib.parse.parse_qs(url.query).get("s", ["1"])[0]), 30.0)
        time.sleep(secs)
        with open(os.path.join(root, "index.html"), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()

"""Bounded HTTP load through a load balancer on loopback, for the
zero-downtime test: GETs one URL until a stop file appears (or a time or
request limit is reached) and writes what it saw as JSON. With a sixth
argument, also one line per request to that file: the wall-clock time
(unix ms) its answer arrived and the version that answered ("-" for a
failed request)."""
import http.client
import json
import os
import sys
import time

host, port, path, stop_file, out_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
timeline = open(sys.argv[6], "w", buffering=1) if len(sys.argv) > 6 else None
MAX_SECONDS, MAX_REQUESTS, PAUSE = 120, 200000, 0.004
assert host.startswith("127."), "loopback only"
ok = failed = 0
versions, errors = {}, []
start = time.time()
while not os.path.exists(stop_file) and time.time() - start < MAX_SECONDS and ok + failed < MAX_REQUESTS:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        conn.close()
        if resp.status == 200:
            ok += 1
            v = body.split("version ")[-1].split("<")[0]
            versions[v] = versions.get(v, 0) + 1
            if timeline:
                timeline.write("%d %s\n" % (int(time.time() * 1000), v))
        else:
            failed += 1
            errors.append("HTTP %d at %.2fs" % (resp.status, time.time() - start))
            if timeline:
                timeline.write("%d -\n" % int(time.time() * 1000))
    except Exception as e:  # refused, reset, timeout: all count as downtime
        failed += 1
        errors.append("%s at %.2fs" % (type(e).__name__, time.time() - start))
        if timeline:
            timeline.write("%d -\n" % int(time.time() * 1000))
    time.sleep(PAUSE)
if timeline:
    timeline.close()
with open(out_file, "w") as f:
    json.dump({"ok": ok, "failed": failed, "versions": versions, "errors": errors[:20],
               "seconds": round(time.time() - start, 2)}, f)

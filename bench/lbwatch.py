"""HAProxy's view of one backend for bench/zerodowntime.sh, over the runtime
API (show stat):
  lbwatch.py SOCKET BACKEND up              how many of its servers are UP now
  lbwatch.py SOCKET BACKEND watch STOPFILE  samples every 100 ms until
                                            STOPFILE exists, then prints the
                                            fewest and most servers UP seen
One process for a whole run: a python3 start per sample would load the
machine the bench measures."""
import csv
import io
import os
import socket
import sys
import time


def servers_up(path, backend):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"show stat\n")
        text = s.makefile("rb").read().decode()  # HAProxy closes after answering
    rows = list(csv.reader(io.StringIO(text.lstrip("# "))))
    name, status = rows[0].index("svname"), rows[0].index("status")
    return sum(1 for r in rows[1:]
               if len(r) > status and r[0] == backend and r[name] not in ("FRONTEND", "BACKEND")
               and r[status] == "UP")


def main():
    path, backend, what = sys.argv[1], sys.argv[2], sys.argv[3]
    if what == "up":
        print(servers_up(path, backend))
        return
    stop, fewest, most, samples = sys.argv[4], None, 0, 0
    while not os.path.exists(stop):
        try:
            n = servers_up(path, backend)
        except OSError:
            n = None
        if n is not None:
            fewest = n if fewest is None else min(fewest, n)
            most, samples = max(most, n), samples + 1
        time.sleep(0.1)
    print(fewest if fewest is not None else -1, most, samples)


main()

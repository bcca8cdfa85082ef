#!/usr/bin/env python3
"""dgram_listen.py SOCKET OUT [PORT...] - plays systemd's side of sd_notify
and of the journal's native protocol for the e2e tests: binds a unix
datagram socket at SOCKET and appends each datagram it receives to OUT as
one JSON line {"fields": {KEY: VALUE}}. When a datagram holds READY=1 and
PORTs are given, it first tries a TCP connection to each on 127.0.0.1 and
adds "probe": "ok" or "refused" - what a unit ordered After= the daemon
would find at that moment. Exits when OUT's directory disappears."""
import json
import os
import socket
import struct
import sys


def fields(data):
    """KEY=VALUE lines, or the journal's binary form KEY\\n<le64><bytes>\\n."""
    out = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            nl = len(data)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            out[key.decode()] = value.decode(errors="replace")
            i = nl + 1
        else:
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            out[line.decode()] = data[nl + 9:nl + 9 + size].decode(errors="replace")
            i = nl + 9 + size + 1
    return out


def probe(ports):
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return "refused"
    return "ok"


def main():
    path, out = sys.argv[1], sys.argv[2]
    ports = [int(p) for p in sys.argv[3:]]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(1)
    while os.path.isdir(os.path.dirname(os.path.abspath(out))):
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            continue
        record = {"fields": fields(data)}
        if ports and record["fields"].get("READY") == "1":
            record["probe"] = probe(ports)
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()

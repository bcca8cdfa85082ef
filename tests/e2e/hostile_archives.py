"""hostile_archives.py DIR OUTSIDE - writes the hostile artifacts of
t_agent_archive.sh into DIR, each an attempt to crash the agent, write
outside the release (at OUTSIDE, an absolute path that must stay absent)
or exhaust the host. Raw tar headers are made by hand where tarfile would
refuse or normalize what an attacker writes."""
import gzip
import io
import os
import sys
import tarfile
import zipfile

out, outside = sys.argv[1], sys.argv[2]


def header(name, size=0, typ=b"0", mode=0o644, link=b""):
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 0
    h[156:157] = typ
    h[157 : 157 + len(link)] = link
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % 512)


END = b"\0" * 1024

# 1. the pax record "1 ": its length does not cover its own digits (the
#    old reader ran memchr with length (size_t)-1). 2.5 kB.
pax = b"1 " + b"x" * 40
with open(f"{out}/pax.tar", "wb") as f:
    f.write(header(b"./PaxHeaders/f", len(pax), b"x") + pad(pax))
    f.write(header(b"f", 3) + pad(b"hi\n") + END)

# 2. a symlink that stays inside by depth (and resolves, to an etc/ that
#    the archive brings), then a hard link to it: the link is the symlink
#    itself, now at the top, where ../../../../etc is the host's /etc
with open(f"{out}/hardlink.tar", "wb") as f:
    f.write(header(b"etc/", 0, b"5", 0o755))
    f.write(header(b"a/b/c/d/s", 0, b"2", 0o777, b"../../../../etc"))
    f.write(header(b"t", 0, b"1", 0o644, b"a/b/c/d/s") + END)

# 3. zip-slip, and an absolute name in a zip
with zipfile.ZipFile(f"{out}/zipslip.zip", "w") as z:
    z.writestr("ok", "fine\n")
    z.writestr("../../../../../../.." + outside, "pwned\n")
with zipfile.ZipFile(f"{out}/zipabs.zip", "w") as z:
    z.writestr("ok", "fine\n")
    z.writestr(zipfile.ZipInfo(outside), "pwned\n")

# 4. absolute and ".." names in a tar
with open(f"{out}/abs.tar", "wb") as f:
    f.write(header(outside.encode(), 6) + pad(b"pwned\n") + END)
with open(f"{out}/dotdot.tar", "wb") as f:
    f.write(header(b"x/../../../../../../.." + outside.encode(), 6) + pad(b"pwned\n") + END)

# 5. a symlink to the outside directory, then a file written through it
d = os.path.dirname(outside)
with open(f"{out}/through.tar", "wb") as f:
    f.write(header(b"l", 0, b"2", 0o777, d.encode()))
    f.write(header(b"l/" + os.path.basename(outside).encode(), 6) + pad(b"pwned\n") + END)
# ... and the same with a symlink that is inside by text only
with open(f"{out}/through2.tar", "wb") as f:
    f.write(header(b"a/s", 0, b"2", 0o777, b"."))
    f.write(header(b"up", 0, b"2", 0o777, b"a/s/../.."))
    f.write(header(b"up/x", 6) + pad(b"pwned\n") + END)

# 6. device nodes and a fifo
with open(f"{out}/device.tar", "wb") as f:
    f.write(header(b"null", 0, b"3", 0o666) + END)
with open(f"{out}/fifo.tar", "wb") as f:
    f.write(header(b"p", 0, b"6", 0o666) + END)

# 7. a setuid, setgid root file (accepted with the bits dropped)
with open(f"{out}/setuid.tar", "wb") as f:
    f.write(header(b"health", 3, b"0", 0o6755) + pad(b"ok\n"))
    f.write(header(b"suid", 3, b"0", 0o6755) + pad(b"#!\n") + END)

# 8. a path longer than 4095 bytes, in a pax header (never truncated)
long_name = ("d" * 200 + "/") * 24 + "f"
t = tarfile.open(f"{out}/longpath.tar", "w", format=tarfile.PAX_FORMAT)
info = tarfile.TarInfo(long_name)
info.size = 6
t.addfile(info, io.BytesIO(b"pwned\n"))
t.close()

# 9. a gzip bomb: 100 MB of zeros in one file, 100 kB packed
with gzip.open(f"{out}/bomb.tgz", "wb", compresslevel=6) as f:
    size = 100 * 1024 * 1024
    f.write(header(b"zeros", size))
    chunk = b"\0" * (1024 * 1024)
    for _ in range(size // len(chunk)):
        f.write(chunk)
    f.write(END)

# 10. a million entries. The limit counts entries, not names, so one
#     directory entry repeated makes the test cheap to build (gzip members
#     concatenated: 10000 headers compressed once) and to clean up.
block = gzip.compress(header(b"d/", 0, b"5", 0o755) * 10000, compresslevel=9)
with open(f"{out}/million.tgz", "wb") as f:
    for _ in range(100):
        f.write(block)
    f.write(gzip.compress(END))

# t_build_deps.sh - an edit of the proto rebuilds every object that includes
# its generated header. protoc-c makes the .c and the .h in one run; when
# the header was a rule of its own without a recipe, make kept its old time,
# rebuilt only rollclone.pb-c.o and linked it with objects compiled against
# the old struct layouts: the agent's executor then crashed packing its first
# heartbeat (found by package-test after a proto change). The tree is copied
# so the real checkout's build is not disturbed.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$T/src"
(cd "$top" && cp -r Makefile proto common agent cli coordinator "$T/src/")
[ -d "$top/packaging" ] && cp -r "$top/packaging" "$T/src/"
b=$T/src/b
obj=$b/obj/agent/report.o

say "an object that includes the generated header, built once"
make -s -C "$T/src" BUILD="$b" "$obj" >"$T/make1.log" 2>&1 || { cat "$T/make1.log"; fail "first build"; }
[ -f "$obj" ] || fail "no $obj"
before=$(stat -c %Y.%y "$obj")

say "the proto changes (a field added): the object is built again"
sleep 1.1
sed -i 's/^message Heartbeat {$/message Heartbeat {\n  uint32 t_build_deps_probe = 99;/' "$T/src/proto/rollclone.proto"
grep -q t_build_deps_probe "$T/src/proto/rollclone.proto" || fail "the proto edit did not take"
make -s -C "$T/src" BUILD="$b" "$obj" >"$T/make2.log" 2>&1 || { cat "$T/make2.log"; fail "second build"; }
grep -q t_build_deps_probe "$b/gen/rollclone.pb-c.h" || fail "the header was not generated again"
after=$(stat -c %Y.%y "$obj")
[ "$after" != "$before" ] || fail "agent/report.o was not rebuilt after the proto changed"
[ "$b/gen/rollclone.pb-c.h" -nt "$obj" ] && fail "agent/report.o is older than the header it includes"
say "ok"

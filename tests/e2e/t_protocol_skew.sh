# Version skew is answered, not dropped (issue 9): a control request of
# another protocol version gets a reply naming both versions, and a rollclone
# built with another protocol number prints "coordinator speaks protocol N,
# this rollclone speaks M" (exit 3) instead of "no answer". A request over the
# size limit is answered "request too large", not with silence.
. "$(dirname "$0")/lib.sh"
command -v cc >/dev/null && command -v make >/dev/null || { echo "no compiler: skip"; exit 77; }
rc_fleet 0
rc_coord_start
ours=$(info_field protocol_version)
O="--wait 5s --endpoint tcp://127.0.0.1:$P_CTL --server-key $T/keys/coordinator --key $T/keys/operator_secret"
out=$("$RC_BUILD/rc_frame" $O --kind request --protocol 77)
echo "$out" | grep -q "reply code=3 error=coordinator speaks protocol $ours, this rollclone speaks 77" \
    || fail "request of protocol 77 not answered: $out"
out=$("$RC_BUILD/rc_frame" $O --kind oversized)
echo "$out" | grep -q "reply code=2 error=request too large" || fail "oversized request not answered: $out"
say "rc_frame: skew and size answered"

# a whole rollclone of another protocol version (built from this tree)
src=$(cd "$(dirname "$0")/../.." && pwd)
skew=$((ours + 40))
make -s -j2 -C "$src" BUILD="$T/skew" RC_PROTOCOL=$skew "$T/skew/rollclone" >"$T/build.log" 2>&1 \
    || { tail -20 "$T/build.log"; fail "cannot build a rollclone of protocol $skew"; }
expect_exit 3 "$T/skew/rollclone" --timeout 5s hosts
grep -q "coordinator speaks protocol $ours, this rollclone speaks $skew" "$T/last.out" \
    || fail "skewed CLI says: $(cat "$T/last.out")"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"
say "ok"

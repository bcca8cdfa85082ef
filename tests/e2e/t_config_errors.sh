# Bad configs and bad usage: exit 2 with one line that names FILE:LINE and
# what is wrong, for all three programs; nothing is created. --help and
# --version answer on all three.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
for bin in rollclone rollclone-agent rollclone-coordinator; do
    expect_exit 0 "$RC_BUILD/$bin" --version
    grep -q "^$bin [0-9]" "$T/last.out" || fail "$bin --version: $(cat "$T/last.out")"
    expect_exit 0 "$RC_BUILD/$bin" --help
    grep -q "usage" "$T/last.out" || fail "$bin --help"
    expect_exit 2 "$RC_BUILD/$bin" --no-such-flag
done

# check BIN CONF EXPECT: BIN --config CONF exits 2 with EXPECT in one line
check () {
    bin=$1; conf=$2; want=$3
    case $bin in rollclone) args="hosts" ;; *) args="" ;; esac
    expect_exit 2 timeout -k 2 20 "$RC_BUILD/$bin" --config "$conf" $args
    [ "$(wc -l <"$T/last.out")" = 1 ] || { cat "$T/last.out"; fail "$bin: error is not one line"; }
    grep -qF -- "$want" "$T/last.out" || fail "$bin: got '$(cat "$T/last.out")', want '$want'"
}
C="$T/bad.conf"
coord () { printf '[coordinator]\nsecret_key = keys/coordinator_secret\n%s\n' "$1" >"$C"; }
coord "bogus = 1";                 check rollclone-coordinator "$C" "$C:3: unknown key 'bogus' in [coordinator]"
coord "offline_after = soon";      check rollclone-coordinator "$C" "$C:3: [coordinator] offline_after = 'soon' is not a duration"
coord "agent_endpoint = 7601";     check rollclone-coordinator "$C" "$C:3: [coordinator] agent_endpoint = '7601' is not an endpoint"
coord "heartbeat_interval = 20s";  check rollclone-coordinator "$C" "offline_after must be longer than heartbeat_interval"
printf '[coordinator]\nsecret_key = nothere_secret\n' >"$C"
check rollclone-coordinator "$C" "$C:2: [coordinator] secret_key: cannot read key"
cp "$T/keys/coordinator" "$T/public-only"
printf '[coordinator]\nsecret_key = public-only\n' >"$C"
check rollclone-coordinator "$C" "$C:2: [coordinator] secret_key: $T/public-only holds no secret key"
printf '[coordinator]\ndata_dir = x\n' >"$C"
check rollclone-coordinator "$C" "missing required key 'secret_key' in [coordinator]"
printf 'just words\n' >"$C"
check rollclone-coordinator "$C" "$C:1: not 'key = value' nor '[section]'"
check rollclone-coordinator "$T/none.conf" "$T/none.conf: cannot open"
[ ! -e "$T/x" ] || fail "a failed start created data_dir"

sed 's/^labels = .*/labels = role/' "$T/agent-1.conf" >"$C"
check rollclone-agent "$C" "[agent] labels: label 'role' is not key=value"
sed 's/^id = .*/id = ..\/etc/' "$T/agent-1.conf" >"$C"
check rollclone-agent "$C" "[agent] id = '../etc' must be"
grep -v coordinator_endpoint "$T/agent-1.conf" >"$C"
check rollclone-agent "$C" "missing required key 'coordinator_endpoint' in [agent]"
printf '%s\n[app shop]\nkeep_releases = lots\n' "$(cat "$T/agent-1.conf")" >"$C"
check rollclone-agent "$C" "[app shop] keep_releases = 'lots' is not a whole number"
printf '%s\n[app shop]\nhealth_url = ftp://x\n' "$(cat "$T/agent-1.conf")" >"$C"
check rollclone-agent "$C" "[app shop] health_url = 'ftp://x' is not an http:// or https:// URL"
printf '%s\n[app shop]\nrestart = x\n' "$(cat "$T/agent-1.conf")" >"$C"
check rollclone-agent "$C" "missing required key 'releases_dir' in [app shop]"

sed 's/^control_endpoint = .*/control_endpoint = nowhere/' "$T/client.conf" >"$C"
check rollclone "$C" "$C:2: [client] control_endpoint = 'nowhere' is not an endpoint"
sed 's/^coordinator_public_key = .*/coordinator_public_key = short/' "$T/client.conf" >"$C"
check rollclone "$C" "$C:3: [client] coordinator_public_key: cannot read public key"
# the config is found through $ROLLCLONE_CONFIG; a missing one is exit 2
ROLLCLONE_CONFIG="$T/none.conf" expect_exit 2 "$RC" hosts
grep -q "none.conf: cannot open" "$T/last.out" || fail "ROLLCLONE_CONFIG not used"

# bad usage of the CLI
expect_exit 2 "$RC" frobnicate
expect_exit 2 "$RC" hosts --bogus
expect_exit 2 "$RC" --timeout never hosts
expect_exit 2 "$RC" keygen
"$RC" keygen "$T/k" >/dev/null
expect_exit 2 "$RC" keygen "$T/k"
grep -q "refusing to overwrite" "$T/last.out" || fail "keygen overwrote a key"
[ "$(stat -c %a "$T/k_secret")" = 600 ] || fail "secret key not 0600"
# agent without --config
expect_exit 2 "$RC_BUILD/rollclone-agent"
say "ok"

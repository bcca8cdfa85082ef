# t_rollout_signed.sh - signed artifacts (issue 8): an app with
# trusted_signers takes only artifacts with a valid ed25519 signature by a
# key in that directory, fetched from URL.sig or carried in the instruction
# (deploy --signature). Unsigned, signed by another key, signed for another
# version, or a tampered artifact: refused before unpacking, current stays.
# keygen --signing and sign refuse bad input with exit 2.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
mkdir -p "$T/signers" "$T/art"
RC_APP_EXTRA="trusted_signers = $T/signers" rc_webapp 1
rc_coord_start
rc_agent_start 1
wait_for 10 host_is host-1 online || fail "host-1 not online"
web="$T/agent-1/web"

say "keygen --signing and sign: bad input is exit 2"
expect_exit 0 "$RC" keygen --signing "$T/keys/release"
[ "$(stat -c %a "$T/keys/release_secret")" = 600 ] || fail "secret key not mode 0600"
cp "$T/keys/release" "$T/signers/release"
expect_exit 0 "$RC" keygen --signing "$T/keys/other"
expect_exit 2 "$RC" keygen --signing "$T/keys/release"   # never overwrites a key
expect_exit 2 "$RC" keygen --signing
make_release v1; make_release v2; make_release v3
expect_exit 2 "$RC" sign --key "$T/keys/nope_secret" "$T/art/v1.tgz"
expect_exit 2 "$RC" sign --key "$T/keys/release" "$T/art/v1.tgz"       # the public half
grep -q "secret-key" "$T/last.out" || fail "bad key file not named: $(cat "$T/last.out")"
expect_exit 2 "$RC" sign --key "$T/keys/release_secret" "$T/art/missing.tgz"
expect_exit 2 "$RC" sign --key "$T/keys/release_secret" "$T/art"
expect_exit 2 "$RC" sign --key "$T/keys/release_secret" --version ../x "$T/art/v1.tgz"
expect_exit 2 "$RC" sign "$T/art/v1.tgz"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"

# not_live V DEP-OUTPUT REASON: the deploy failed with REASON, current unchanged
not_live () {
    dep=$(grep -m1 '^d-' "$T/last.out")
    "$RC" status "$dep" --json >"$T/status.json" || fail "status $dep"
    grep -q "$2" "$T/status.json" || { cat "$T/status.json"; fail "no '$2' in the failure of $1"; }
    [ ! -e "$web/releases/$1" ] || fail "releases/$1 was placed"
    [ "$(readlink "$web/current" 2>/dev/null)" = "$3" ] || fail "current moved: $(readlink "$web/current")"
}

say "unsigned: refused"
expect_exit 1 deploy v1 --soak 100ms --wait
not_live v1 "no signature at" ""

say "signed by a key not in trusted_signers: refused"
expect_exit 0 "$RC" sign --key "$T/keys/other_secret" --version v1 "$T/art/v1.tgz"
expect_exit 1 deploy v1 --soak 100ms --wait
not_live v1 "which is not in trusted_signers" ""

say "signed correctly, found at URL.sig: deployed"
rm "$T/art/v1.tgz.sig"
expect_exit 0 "$RC" sign --key "$T/keys/release_secret" --version v1 "$T/art/v1.tgz"
expect_exit 0 deploy v1 --soak 100ms --wait
current_is 1 v1 || fail "v1 not live"

say "a v1 signature replayed as v2: refused"
cp "$T/art/v1.tgz" "$T/art/v9.tgz"; cp "$T/art/v1.sha" "$T/art/v9.sha"; cp "$T/art/v1.tgz.sig" "$T/art/v9.tgz.sig"
expect_exit 1 deploy v9 --soak 100ms --wait
not_live v9 "signature is for version v1, not v9" releases/v1
expect_exit 2 deploy v9 --signature "$T/art/v1.tgz.sig"   # the coordinator sees it too
grep -q "for version v1" "$T/last.out" || fail "deploy --signature did not say why"

say "a tampered artifact (other bytes, its own sha256): refused"
expect_exit 0 "$RC" sign --key "$T/keys/release_secret" --version v2 "$T/art/v2.tgz"
echo tampered >"$T/art/src-v2/evil.txt"
tar -czf "$T/art/v2.tgz" -C "$T/art/src-v2" .
sha256sum "$T/art/v2.tgz" | cut -d' ' -f1 >"$T/art/v2.sha"
expect_exit 1 deploy v2 --soak 100ms --wait
not_live v2 "signature is for sha256" releases/v1

say "a signature carried in the instruction (deploy --signature): deployed"
expect_exit 0 "$RC" sign --key "$T/keys/release_secret" --version v3 --output "$T/v3.sig" "$T/art/v3.tgz"
[ ! -e "$T/art/v3.tgz.sig" ] || fail "--output ignored"
expect_exit 0 deploy v3 --signature "$T/v3.sig" --soak 100ms --wait
current_is 1 v3 || fail "v3 not live"
expect_exit 2 deploy v3 --signature "$T/art/missing.sig"
echo garbage >"$T/bad.sig"
expect_exit 2 deploy v3 --signature "$T/bad.sig"
rc_webapp_cleanup
echo PASS

# The CLI's help, errors, completion and man page, all made from one command
# table: every command of the contract has `--help` (exit 0, names each of
# its options) and `help COMMAND` (the same text); `help` lists them all; an
# unknown option or command is one line and exit 2; the bash completion
# script loads and completes; the man page names every command and option.
# Needs no coordinator.
. "$(dirname "$0")/lib.sh"

# the interface contract: commands and their options (extend, never rename)
contract='
deploy app version artifact sha256 signature select batch window rollback-batch max-fail soak health-timeout progress-deadline offline-grace pause no-auto-rollback wait plan retry ignore-freeze json
status json watch limit
pause json
resume json
abort no-rollback json
rollback deployment host app to wait plan json
events json limit before
freeze until clear reason json
hosts json
info json
history json limit before
backup json
keygen signing json
sign key version app output json
help man
completion
'

expect_exit 0 "$RC" help
cp "$T/last.out" "$T/help.out"
expect_exit 0 "$RC" --help
cmp -s "$T/last.out" "$T/help.out" || fail "rollclone --help differs from rollclone help"
echo "$contract" | while read -r cmd opts; do
    [ -n "$cmd" ] || continue
    grep -Eq "^  $cmd( |$)" "$T/help.out" || fail "help does not list $cmd"
    expect_exit 0 "$RC" "$cmd" --help
    grep -q "^usage: rollclone $cmd" "$T/last.out" || fail "$cmd --help has no usage line"
    cp "$T/last.out" "$T/cmd.out"
    for o in $opts help; do
        grep -q -- "--$o\b" "$T/cmd.out" || fail "$cmd --help does not name --$o"
    done
    expect_exit 0 "$RC" help "$cmd"
    cmp -s "$T/last.out" "$T/cmd.out" || fail "help $cmd differs from $cmd --help"
    expect_exit 0 "$RC" "$cmd" -h
    # an unknown option: exit 2, one line naming it and the command
    expect_exit 2 "$RC" "$cmd" --no-such-option
    [ "$(wc -l <"$T/last.out")" = 1 ] || { cat "$T/last.out"; fail "$cmd: not one line"; }
    grep -q "rollclone $cmd: unknown option '--no-such-option'" "$T/last.out" \
        || { cat "$T/last.out"; fail "$cmd: error does not name the option"; }
done || exit 1
# the help lists nothing outside the contract
listed=$(sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p' "$T/help.out" | sort | tr '\n' ' ')
want=$(echo "$contract" | awk 'NF {print $1}' | sort | tr '\n' ' ')
[ "$listed" = "$want" ] || fail "help lists '$listed', contract '$want'"
say "help of every command"

expect_exit 2 "$RC" frobnicate
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "unknown command: not one line"
expect_exit 2 "$RC" help frobnicate
expect_exit 2 "$RC" --no-such-option
expect_exit 2 "$RC" status --limit
grep -q "needs a value" "$T/last.out" || fail "missing value not told"
expect_exit 2 "$RC" status --limit 0
expect_exit 2 "$RC" pause
expect_exit 2 "$RC" pause a b
expect_exit 2 "$RC" completion fish
expect_exit 2 "$RC" deploy --app web --version v1
expect_exit 2 "$RC" rollback --deployment d-1 --host h
expect_exit 2 "$RC" freeze --until 2h --clear
expect_exit 2 "$RC" freeze --until yesterday
expect_exit 2 "$RC" freeze --until 2000-01-01T00:00:00Z
say "bad usage: one line, exit 2"

# keygen and sign print JSON too
"$RC" keygen --json "$T/k1" >"$T/k1.json" || fail "keygen --json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["public"].endswith("/k1") and d["secret"].endswith("/k1_secret"), d' "$T/k1.json" \
    || fail "keygen --json does not parse"
"$RC" keygen --signing --json "$T/s1" >/dev/null || fail "keygen --signing --json"
echo release >"$T/art"
"$RC" sign --key "$T/s1_secret" --version v1 --json "$T/art" >"$T/sig.json" || fail "sign --json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"] == "v1" and d["app"] is None and len(d["sha256"]) == 64, d' "$T/sig.json" \
    || fail "sign --json does not parse"
[ -s "$T/art.sig" ] || fail "sign --json wrote no signature"
say "keygen --json and sign --json"

# bash: the script loads, registers, and completes commands, options and values
PATH="$RC_BUILD:$PATH" bash -c 'source <(rollclone completion bash); complete -p rollclone' >"$T/complete.out" 2>&1 \
    || { cat "$T/complete.out"; fail "bash completion does not load"; }
grep -q "_rollclone rollclone" "$T/complete.out" || fail "bash completion not registered"
got=$(PATH="$RC_BUILD:$PATH" bash -c 'source <(rollclone completion bash)
c () { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _rollclone; echo "${COMPREPLY[*]}"; }
c rollclone fre; c rollclone deploy --ign; c rollclone deploy --pause m; c rollclone completion ""
c rollclone --timeout 2s ro; c rollclone help dep')
[ "$got" = "freeze
--ignore-freeze
manual
bash zsh
rollback
deploy" ] || fail "bash completion: $got"
if command -v zsh >/dev/null; then
    "$RC" completion zsh >"$T/_rollclone"
    zsh -n "$T/_rollclone" || fail "zsh completion does not parse"
    grep -q "^#compdef rollclone" "$T/_rollclone" || fail "zsh completion: no #compdef"
fi
"$RC" completion bash | cmp -s - "$RC_BUILD/completion/rollclone" || fail "built bash completion is stale"
say "completion"

# the man page: made at build time from the same table
man=$RC_BUILD/man/rollclone.1
[ -f "$man" ] || fail "no $man"
groff -man -ww -z "$man" 2>"$T/groff.err" || { cat "$T/groff.err"; fail "man page has roff warnings"; }
[ ! -s "$T/groff.err" ] || { cat "$T/groff.err"; fail "man page has roff warnings"; }
LC_ALL=C MANWIDTH=250 man -l "$man" 2>/dev/null | col -b >"$T/man.txt"
echo "$contract" | while read -r cmd opts; do
    [ -n "$cmd" ] || continue
    grep -Eq "^ +$cmd( |$)" "$T/man.txt" || fail "man page has no command $cmd"
    for o in $opts; do
        grep -q -- "--$o\b" "$T/man.txt" || fail "man page: no --$o ($cmd)"
    done
done || exit 1
say ok

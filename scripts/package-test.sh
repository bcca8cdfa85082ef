#!/bin/sh
# package-test.sh BUILD VERSION - checks the packages in BUILD/pkg that
# `make deb rpm` made, then installs the debs into a throwaway Debian 12
# root where their maintainer scripts really run: first install (key pairs
# created), the binaries run, an upgrade to a second build with a bumped
# version keeps edited configs and keys, remove keeps state, purge removes it.
# The rpms' scriptlets run in the same root through `rpm --root`.
#
# The root is a copy of a cached `debootstrap --variant=minbase bookworm`
# tree ($ROLLCLONE_TEST_CACHE, default /var/cache/rollclone-test), made once;
# the .debs apt fetches into it are cached there too. The only network
# traffic is apt's and debootstrap's, to the Debian mirror.
# Closes with the "N passed, N failed" line CI reads; exit 1 on a failure.
set -u
[ $# = 2 ] || { echo "usage: $0 BUILD VERSION" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
version=$2
pkg=$build/pkg
cache=${ROLLCLONE_TEST_CACHE:-/var/cache/rollclone-test}
mirror=${ROLLCLONE_TEST_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
arch=$(dpkg --print-architecture)
rpmarch=$(rpm --eval '%{_arch}')
# The upgrade: the same tree built again with a later version.
version2=${version}+pkgtest1
build2=$build/pkg-test/v2
MAKE=${MAKE:-make}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

if [ "$(id -u)" != 0 ]; then
    echo "package-test: must run as root (chroot, dpkg in a throwaway root)" >&2
    exit 2
fi

pass=0 fail=0 failed=""
log=$(mktemp /tmp/rollclone-pkgtest.XXXXXX)
root="" fresh=""
cleanup () {
    for r in "$root" "$fresh"; do
        if [ -n "$r" ] && [ -d "$r" ]; then
            umount "$r/proc" 2>/dev/null || true
            # never into a mount that umount left behind
            rm -rf --one-file-system "$r"
        fi
    done
    rm -f "$log"
}
trap cleanup EXIT INT TERM

# check NAME COMMAND...: one test; its output is shown only when it fails.
check () {
    name=$1
    shift
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "PASS $name"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name"
        tail -30 "$log" | sed 's/^/    /'
    fi
}
# Helpers used as check commands: each fails with a line saying why.
has_line () { grep -Eq -- "$2" "$1" || { echo "$1: no line matching '$2'"; cat "$1"; return 1; }; }
same_list () {
    if ! diff -u "$1" "$2"; then echo "file list differs (- expected, + actual)"; return 1; fi
}
in_root () { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
# Paths inside the root; symlinks are not followed (they point into it).
not_exists () { for f; do [ ! -e "$root$f" ] && [ ! -L "$root$f" ] || { echo "$f still exists"; ls -la "$root$f"; return 1; }; done; }
exists () { for f; do [ -e "$root$f" ] || [ -L "$root$f" ] || { echo "$f is missing"; return 1; }; done; }
# Owner names as the root's own /etc/passwd has them.
mode_is () { m=$(chroot "$root" stat -c '%a %U:%G' "$1") && [ "$m" = "$2" ] || { echo "$1: '$m', want '$2'"; return 1; }; }

deb () { echo "$pkg/${1}_${version}_${arch}.deb"; }
rpmf () { echo "$pkg/${1}-${version}-1.${rpmarch}.rpm"; }
work=$build/pkg-test
rm -rf "$work/static"
mkdir -p "$work/static"
st=$work/static

# ---- static checks: debs -------------------------------------------------
for p in rollclone-cli rollclone-agent rollclone-coordinator; do
    d=$(deb $p)
    check "deb-exists-$p" test -f "$d"
    dpkg-deb -I "$d" >"$st/$p.info" 2>&1
    check "deb-version-arch-$p" sh -c "dpkg-deb -f '$d' Version Architecture | tr '\n' ' ' \
        | grep -qx 'Version: $version Architecture: $arch '"
    # shlibs Depends: libc and the libraries the binary links against
    check "deb-shlibs-depends-$p" has_line "$st/$p.info" "Depends:.*libc6 \(>=.*libczmq4.*libzmq5"
    dpkg-deb -c "$d" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^/\?$' \
        | grep -v '^/usr/share/doc' | sort >"$st/$p.files"
    rm -rf "$st/$p.ctl" && dpkg-deb -e "$d" "$st/$p.ctl"
done
cat >"$st/cli.want" <<'EOF'
/etc
/etc/rollclone
/etc/rollclone/client.conf
/usr
/usr/bin
/usr/bin/rollclone
/usr/libexec
/usr/libexec/rollclone
/usr/libexec/rollclone/keypair
/usr/share
/usr/share/bash-completion
/usr/share/bash-completion/completions
/usr/share/bash-completion/completions/rollclone
/usr/share/man
/usr/share/man/man1
/usr/share/man/man1/rollclone.1.gz
/usr/share/zsh
/usr/share/zsh/vendor-completions
/usr/share/zsh/vendor-completions/_rollclone
EOF
cat >"$st/agent.want" <<'EOF'
/etc
/etc/rollclone
/etc/rollclone/agent.conf
/lib
/lib/systemd
/lib/systemd/system
/lib/systemd/system/rollclone-agent.service
/usr
/usr/sbin
/usr/sbin/rollclone-agent
/usr/share
/usr/share/man
/usr/share/man/man8
/usr/share/man/man8/rollclone-agent.8.gz
/var
/var/lib
/var/lib/rollclone-agent
EOF
cat >"$st/coordinator.want" <<'EOF'
/etc
/etc/rollclone
/etc/rollclone/agents
/etc/rollclone/coordinator.conf
/etc/rollclone/operators
/lib
/lib/systemd
/lib/systemd/system
/lib/systemd/system/rollclone-coordinator.service
/usr
/usr/sbin
/usr/sbin/rollclone-coordinator
/usr/share
/usr/share/man
/usr/share/man/man8
/usr/share/man/man8/rollclone-coordinator.8.gz
/usr/share/rollclone
/usr/share/rollclone/monitoring
/usr/share/rollclone/monitoring/prometheus.yml
/usr/share/rollclone/monitoring/rollclone-alerts.yml
/usr/share/rollclone/monitoring/rollclone-dashboard.json
/var
/var/lib
/var/lib/rollclone-coordinator
EOF
for p in cli agent coordinator; do
    check "deb-file-list-$p" same_list "$st/$p.want" "$st/rollclone-$p.files"
done
check "deb-depends-cli-same-version" sh -c "grep -q 'rollclone-cli (= $version)' '$st/rollclone-agent.info' \
    && grep -q 'rollclone-cli (= $version)' '$st/rollclone-coordinator.info'"
check "deb-conffiles" sh -c "grep -qx /etc/rollclone/agent.conf '$st/rollclone-agent.ctl/conffiles' \
    && grep -qx /etc/rollclone/coordinator.conf '$st/rollclone-coordinator.ctl/conffiles' \
    && grep -qx /etc/rollclone/client.conf '$st/rollclone-cli.ctl/conffiles'"
for p in agent coordinator; do
    c=$st/rollclone-$p.ctl
    check "deb-scripts-$p-keypair" has_line "$c/postinst" "^ +/usr/libexec/rollclone/keypair /etc/rollclone/$p.key"
    check "deb-scripts-$p-user" has_line "$c/postinst" "adduser --system --group"
    check "deb-scripts-$p-enable" has_line "$c/postinst" "deb-systemd-helper enable 'rollclone-$p.service'"
    check "deb-scripts-$p-stop-on-remove" has_line "$c/prerm" "deb-systemd-invoke stop 'rollclone-$p.service'"
    check "deb-scripts-$p-purge-state" has_line "$c/postrm" "rm -rf /var/lib/rollclone-$p"
    check "deb-scripts-$p-syntax" sh -n "$c/postinst" "$c/postrm" "$c/prerm"
done

# Every key of DESIGN.md's contract appears in the shipped configs.
keys_ok () {
    file=$1 section=$2
    shift 2
    grep -Eq "^#?\[$section\]" "$file" || { echo "$file: no [$section]"; return 1; }
    for k; do
        grep -Eq "^#?$k = " "$file" || { echo "$file: no key $k"; return 1; }
    done
}
check "config-coordinator-keys" keys_ok "$top/packaging/etc/coordinator.conf" coordinator \
    data_dir agent_endpoint publish_endpoint control_endpoint secret_key agent_keys_dir \
    operator_keys_dir heartbeat_interval offline_after event_retention deployment_retention
check "config-agent-keys" keys_ok "$top/packaging/etc/agent.conf" agent id coordinator_endpoint \
    coordinator_publish_endpoint coordinator_public_key secret_key state_dir labels \
    heartbeat_interval user
check "config-app-keys" keys_ok "$top/packaging/etc/agent.conf" 'app shop' releases_dir \
    install restart drain undrain health_url health_body health_command health_interval \
    health_rise health_fall hook_timeout keep_releases user
check "config-client-keys" keys_ok "$top/packaging/etc/client.conf" client control_endpoint \
    coordinator_public_key secret_key

# Man pages render with man -l, without a warning.
for page in rollclone.1 rollclone-agent.8 rollclone-coordinator.8; do
    check "man-$page" sh -c "w=\$(MANWIDTH=80 man --warnings -l '$top/packaging/man/$page' 2>&1 >/dev/null); \
        [ -z \"\$w\" ] || { echo \"\$w\"; exit 1; }; MANWIDTH=80 man -l '$top/packaging/man/$page' | grep -q '^NAME'"
done

# The units parse, and every directive is known to this systemd (bookworm's).
# ExecStart points at the packaged binary (make deb builds it in
# BUILD/release; make all's in BUILD need not exist): verify wants it to exist.
bins=$build/release
[ -x "$bins/rollclone-agent" ] || bins=$build
verify_unit () {
    u=$st/$1
    sed "s|^ExecStart=/usr/sbin/\([a-z-]*\)|ExecStart=$bins/\1|" \
        "$top/packaging/systemd/$1" >"$u"
    out=$(systemd-analyze verify --man=no "$u" 2>&1)
    [ -z "$out" ] || { echo "$out"; return 1; }
}
for u in rollclone-agent.service rollclone-coordinator.service; do
    if command -v systemd-analyze >/dev/null; then
        check "unit-verify-$u" verify_unit "$u"
    else
        echo "SKIP unit-verify-$u: no systemd-analyze on this machine"
    fi
done

check "lintian-no-errors" sh -c "lintian --fail-on error $(deb rollclone-cli) $(deb rollclone-agent) \
    $(deb rollclone-coordinator) 2>&1 | grep -v 'running with root privileges' | tee /dev/stderr \
    | { ! grep -q '^E:'; }"

# ---- static checks: rpms -------------------------------------------------
for p in rollclone-cli rollclone-agent rollclone-coordinator; do
    r=$(rpmf $p)
    check "rpm-exists-$p" test -f "$r"
    check "rpm-version-arch-$p" sh -c "rpm -qp --qf '%{VERSION} %{ARCH}' '$r' | grep -qx '$version $rpmarch'"
    rpm -qpl "$r" >"$st/$p.rpmfiles" 2>&1
    rpm -qp --scripts "$r" >"$st/$p.rpmscripts" 2>&1
    rpm -qpR "$r" >"$st/$p.rpmreq" 2>&1
    check "rpm-requires-sonames-$p" has_line "$st/$p.rpmreq" '^libczmq\.so\.4\(\)\(64bit\)'
done
printf '%s\n' /etc/rollclone /etc/rollclone/client.conf /usr/bin/rollclone /usr/libexec/rollclone \
    /usr/libexec/rollclone/keypair /usr/share/bash-completion/completions/rollclone \
    /usr/share/man/man1/rollclone.1.gz /usr/share/zsh/vendor-completions/_rollclone >"$st/cli.rpmwant"
printf '%s\n' /etc/rollclone/agent.conf /usr/lib/systemd/system/rollclone-agent.service \
    /usr/sbin/rollclone-agent /usr/share/man/man8/rollclone-agent.8.gz /var/lib/rollclone-agent \
    >"$st/agent.rpmwant"
printf '%s\n' /etc/rollclone/agents /etc/rollclone/coordinator.conf /etc/rollclone/operators \
    /usr/lib/systemd/system/rollclone-coordinator.service /usr/sbin/rollclone-coordinator \
    /usr/share/man/man8/rollclone-coordinator.8.gz /usr/share/rollclone /usr/share/rollclone/monitoring \
    /usr/share/rollclone/monitoring/prometheus.yml /usr/share/rollclone/monitoring/rollclone-alerts.yml \
    /usr/share/rollclone/monitoring/rollclone-dashboard.json /var/lib/rollclone-coordinator \
    >"$st/coordinator.rpmwant"
for p in cli agent coordinator; do
    check "rpm-file-list-$p" same_list "$st/$p.rpmwant" "$st/rollclone-$p.rpmfiles"
    # %config(noreplace): rpm's file flags "cn"
    check "rpm-config-noreplace-$p" sh -c "rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' \
        '$(rpmf rollclone-$p)' | grep -qx '/etc/rollclone/$( [ $p = cli ] && echo client || echo $p).conf cn'"
done
for p in agent coordinator; do
    s=$st/rollclone-$p.rpmscripts
    check "rpm-scripts-$p-keypair" has_line "$s" "^/usr/libexec/rollclone/keypair /etc/rollclone/$p.key"
    check "rpm-scripts-$p-stop-on-erase" has_line "$s" "disable --now rollclone-$p.service"
    check "rpm-scripts-$p-restart-on-upgrade" has_line "$s" "try-restart rollclone-$p.service"
done
check "rpm-scripts-coordinator-user" has_line "$st/rollclone-coordinator.rpmscripts" "useradd -r -g rollclone"
check "rpm-scripts-agent-user" has_line "$st/rollclone-agent.rpmscripts" "useradd -r -g rollclone"
check "rpm-attr-coordinator-datadir" sh -c "rpm -qplv '$(rpmf rollclone-coordinator)' \
    | grep -q '^drwxr-x---.* rollclon.* /var/lib/rollclone-coordinator$'"

# ---- the upgrade build ---------------------------------------------------
echo "package-test: building $version2 for the upgrade test"
check "build-upgrade-version" sh -c "$MAKE -C '$top' -s BUILD='$build2' VERSION='$version2' \
    PKG_DIR='$build2/pkg' deb rpm"
deb2 () { echo "$build2/pkg/${1}_${version2}_${arch}.deb"; }
rpm2 () { echo "$build2/pkg/${1}-${version2}-1.${rpmarch}.rpm"; }

# ---- the throwaway root --------------------------------------------------
base=$cache/$suite-minbase
mkdir -p "$cache"
# Two runs at once (a developer's and CI's) make the cache once, not twice.
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$base/.rollclone-ready" ]; then
    echo "package-test: making the cached $suite root in $base (once)"
    rm -rf "$base" "$base.tmp"
    mkdir -p "$cache"
    if ! debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1; then
        tail -20 "$cache/debootstrap.log"
        echo "package-test: debootstrap failed" >&2
        exit 1
    fi
    # No service may start in the root: dpkg's scripts ask policy-rc.d.
    printf '#!/bin/sh\nexit 101\n' >"$base.tmp/usr/sbin/policy-rc.d"
    chmod 755 "$base.tmp/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$base.tmp/etc/resolv.conf"
    chroot "$base.tmp" apt-get update -qq || { echo "package-test: apt-get update failed" >&2; exit 1; }
    chroot "$base.tmp" apt-get clean
    touch "$base.tmp/.rollclone-ready"
    mv "$base.tmp" "$base"
fi
mkdir -p "$cache/archives"
root=$(mktemp -d /var/tmp/rollclone-root.XXXXXX)
cp -a "$base/." "$root/"
flock -u 9
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$cache/archives/"*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true
mount -t proc proc "$root/proc" 2>/dev/null || true
mkdir -p "$root/tmp/v1" "$root/tmp/v2"
cp "$(deb rollclone-cli)" "$(deb rollclone-agent)" "$(deb rollclone-coordinator)" "$root/tmp/v1/"
cp "$(deb2 rollclone-cli)" "$(deb2 rollclone-agent)" "$(deb2 rollclone-coordinator)" "$root/tmp/v2/" 2>/dev/null

# dpkg -i stops at the missing libraries; apt-get -f install fetches them
# and configures our packages (their postinst runs then). Stale cached
# package lists are refreshed once.
install_v1 () {
    in_root sh -c 'dpkg -i /tmp/v1/*.deb' || true
    if ! in_root apt-get -f install -y -q; then
        in_root apt-get update -qq && in_root apt-get -f install -y -q || return 1
    fi
    for p in rollclone-cli rollclone-agent rollclone-coordinator; do
        in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' $p | grep -x "$p $version install ok installed" \
            || { echo "$p is not installed"; return 1; }
    done
}
check "root-install-v1" install_v1
cp "$root/var/cache/apt/archives/"*.deb "$cache/archives/" 2>/dev/null || true

check "root-agent-version" sh -c "in_root() { chroot '$root' \"\$@\"; }; \
    in_root /usr/sbin/rollclone-agent --version | grep -qx 'rollclone-agent $version'"
check "root-agent-help" in_root /usr/sbin/rollclone-agent --help
check "root-keypair-agent" exists /etc/rollclone/agent.key /etc/rollclone/agent.key_secret
check "root-keypair-agent-secret-0600" mode_is /etc/rollclone/agent.key_secret "600 root:root"
check "root-keypair-coordinator-secret-0600" mode_is /etc/rollclone/coordinator.key_secret "600 rollclone:rollclone"
check "root-keypair-operator" exists /etc/rollclone/operator.key_secret /etc/rollclone/operators/local-root.key
check "root-system-user" in_root getent passwd rollclone
check "root-state-dir-agent" mode_is /var/lib/rollclone-agent "700 root:root"
check "root-state-dir-coordinator" mode_is /var/lib/rollclone-coordinator "750 rollclone:rollclone"
check "root-units-enabled" exists /etc/systemd/system/multi-user.target.wants/rollclone-agent.service \
    /etc/systemd/system/multi-user.target.wants/rollclone-coordinator.service
check "root-bash-completion" in_root bash -c '. /usr/share/bash-completion/completions/rollclone && complete -p rollclone'
# the monitoring files as the repository has them (docs/metrics.md)
check "root-monitoring-files" sh -c "for f in prometheus.yml rollclone-alerts.yml rollclone-dashboard.json; do \
    cmp '$top/packaging/monitoring/'\$f '$root/usr/share/rollclone/monitoring/'\$f || exit 1; done"
check "root-man-page" sh -c "MANWIDTH=80 man -l '$root/usr/share/man/man8/rollclone-agent.8.gz' | grep -q rollclone-agent"
# The coordinator binary runs in the root too.
check "root-coordinator-version" sh -c "chroot '$root' /usr/sbin/rollclone-coordinator --version \
    | grep -qx 'rollclone-coordinator $version'"

# The shipped agent config is unfinished on purpose: the agent must refuse
# it with exit code 2, which the unit does not retry (RestartPreventExitStatus).
unconfigured_agent () {
    chroot "$root" /usr/sbin/rollclone-agent --config /etc/rollclone/agent.conf >"$st/unconf.out" 2>&1
    rc=$?
    cat "$st/unconf.out"
    [ $rc = 2 ] && grep -q "missing required key 'coordinator_endpoint'" "$st/unconf.out"
}
check "root-unconfigured-agent-exits-2" unconfigured_agent

# Finish the configs as an admin would (this edit must survive the upgrade),
# and admit the agent's key on the coordinator.
sed -i -e 's/^#id = web-1$/id = edited-by-test/' \
    -e 's|^#coordinator_endpoint = .*|coordinator_endpoint = tcp://127.0.0.1:7601|' \
    -e 's|^#coordinator_publish_endpoint = .*|coordinator_publish_endpoint = tcp://127.0.0.1:7602|' \
    -e 's|^#coordinator_public_key = |coordinator_public_key = |' "$root/etc/rollclone/agent.conf"
sed -i 's/^#offline_after = 15s$/offline_after = 30s/' "$root/etc/rollclone/coordinator.conf"
cp "$root/etc/rollclone/agent.key" "$root/etc/rollclone/agents/edited-by-test.key"

# The installed packages work together, as their units would run them: the
# coordinator as user rollclone with the packaged config and keys, the agent
# as root, and root's `rollclone` with the packaged client.conf (its default
# config) sees the agent online. In a network namespace of its own with only
# loopback: the default ports cannot clash with anything, nothing leaves.
live_fleet () {
    timeout -k 5 60 unshare -n sh -c '
        root=$1
        ip link set lo up || exit 1
        chroot "$root" setpriv --reuid=rollclone --regid=rollclone --init-groups \
            /usr/sbin/rollclone-coordinator --config /etc/rollclone/coordinator.conf &
        coord=$!
        chroot "$root" /usr/sbin/rollclone-agent --config /etc/rollclone/agent.conf &
        agent=$!
        ok=1
        for i in $(seq 1 100); do
            if chroot "$root" /usr/bin/rollclone hosts --json >"$root/tmp/hosts.json" 2>&1 \
                && grep -q "\"id\": \"edited-by-test\"" "$root/tmp/hosts.json" \
                && grep -q "\"state\": \"online\"" "$root/tmp/hosts.json"; then
                ok=0
                break
            fi
            sleep 0.2
        done
        cat "$root/tmp/hosts.json"
        kill -TERM "$agent" "$coord"
        wait "$agent" "$coord"
        exit $ok' sh "$root"
}
check "root-live-agent-online" live_fleet
check "root-coordinator-database" exists /var/lib/rollclone-coordinator/coordinator.db
echo "seen" >"$root/var/lib/rollclone-agent/state-marker"
echo "seen" >"$root/var/lib/rollclone-coordinator/state-marker"

# An app whose `restart` hook starts its server itself (as the demo's does):
# a perl HTTP server (perl-base is in every Debian) on 127.0.0.1:8080
# serving the VERSION file of the live release. It reads the request before
# it answers: a socket closed with the request unread sends a reset, which
# can reach the client before the answer does (curl: "Recv failure:
# Connection reset by peer"). Half of the agent's health checks failed that
# way, and the first deploy took 18-60 s or more to see a healthy soak.
cat >"$root/usr/local/bin/pkgtest-app" <<'EOS'
#!/bin/sh
# pkgtest-app restart: (re)starts the app server, detached, pid in /var/lib/pkgtest-app.pid
pidf=/var/lib/pkgtest-app.pid
[ -f $pidf ] && kill "$(cat $pidf)" 2>/dev/null && sleep 0.2
setsid perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:8080", Listen => 16, ReuseAddr => 1) or die "$!";
    while (my $c = $s->accept) {
        while (my $l = <$c>) { last if $l =~ /^\r?\n$/; }
        my $v;
        if (open (my $f, "<", "/srv/pkgtest-app/current/VERSION")) { $v = <$f>; close $f; }
        print $c defined $v ? "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n$v"
                            : "HTTP/1.0 503 Service Unavailable\r\n\r\n";
        close $c;
    }' </dev/null >/dev/null 2>&1 &
echo $! >$pidf
EOS
chmod 755 "$root/usr/local/bin/pkgtest-app"
mkdir -p "$root/tmp/app"
echo "app-1" >"$root/tmp/app/VERSION"
tar -czf "$root/tmp/app-1.tgz" -C "$root/tmp/app" VERSION
cat >>"$root/etc/rollclone/agent.conf" <<'EOS'

[app pkgtest]
releases_dir = /srv/pkgtest-app
restart = /usr/local/bin/pkgtest-app
health_url = http://127.0.0.1:8080/
health_interval = 200ms
artifact_sources = file:///tmp/
EOS
( cd "$root/etc/rollclone" && sha256sum agent.key agent.key_secret coordinator.key \
    coordinator.key_secret agent.conf coordinator.conf ) >"$work/before-upgrade.sha256"

# The upgrade never touches the app. systemd cannot run as PID 1 here, so
# the test plays its part, using the real mechanism: the agent runs in a
# cgroup of its own (cgroup v1 name=systemd hierarchy), so the app its hook
# starts is in it too, as in the unit's; the upgrade's restart of the unit
# is done as systemd.kill(5) says for the KillMode of the *installed* unit
# (process: SIGTERM to the main PID only; mixed: then SIGKILL to the rest of
# the cgroup; control-group: SIGTERM to all). The app must answer all along.
upgrade_keeps_app () {
    cgroot=/sys/fs/cgroup/systemd
    [ -w "$cgroot" ] || { echo "no writable cgroup hierarchy at $cgroot"; return 1; }
    cg=$cgroot/rollclone-pkgtest.$$
    mkdir -p "$cg"
    timeout -k 5 120 unshare -n sh -c '
        root=$1 cg=$2
        agent="" coord=""
        # a failed check must not leave the daemons running (a coordinator
        # of a failed run lived on in its namespace)
        trap '"'"'kill -TERM $agent $coord 2>/dev/null'"'"' EXIT
        ip link set lo up || exit 1
        fail () { echo "FAIL: $*"; exit 1; }
        run_agent () {
            sh -c "echo \$\$ >$cg/cgroup.procs && exec chroot $root /usr/sbin/rollclone-agent --config /etc/rollclone/agent.conf" &
            agent=$!
        }
        run_coord () {
            chroot "$root" setpriv --reuid=rollclone --regid=rollclone --init-groups \
                /usr/sbin/rollclone-coordinator --config /etc/rollclone/coordinator.conf &
            coord=$!
        }
        # online_as V: the host online, its agent V, its hello (the app) in
        online_as () {
            for _ in $(seq 1 150); do
                chroot "$root" /usr/bin/rollclone hosts --json >"$root/tmp/hosts.json" 2>&1 &&
                    tr -d " \n" <"$root/tmp/hosts.json" >"$root/tmp/hosts.flat" &&
                    grep -q "\"state\":\"online\"" "$root/tmp/hosts.flat" &&
                    grep -q "\"agent_version\":\"$1\"" "$root/tmp/hosts.flat" &&
                    grep -q "\"pkgtest\":" "$root/tmp/hosts.flat" && return 0
                sleep 0.2
            done
            cat "$root/tmp/hosts.json"; return 1
        }
        serves () { [ "$(curl -s --max-time 1 http://127.0.0.1:8080/)" = app-1 ]; }
        run_coord; run_agent
        online_as "$3" || fail "agent $3 not online"
        sha=$(sha256sum "$root/tmp/app-1.tgz" | cut -d" " -f1)
        # bounded below the check'"'"'s own timeout, so that a stuck deployment
        # leaves what says where it stuck: the host'"'"'s phase in the status,
        # the agent'"'"'s step record, the processes of this namespace
        if ! timeout 60 chroot "$root" /usr/bin/rollclone deploy --app pkgtest --version 1 \
            --artifact file:///tmp/app-1.tgz --sha256 "$sha" --soak 500ms --wait \
            </dev/null >"$root/tmp/deploy.out" 2>&1; then
            # the most telling last: a failed check shows its last 30 lines
            ps -eo pid,stat,etime,args | grep -v -e " ps -eo" -e " \[" | cut -c1-100
            ls -lR "$root/var/lib/rollclone-agent" 2>&1 | head -12
            chroot "$root" /usr/bin/rollclone hosts
            cat "$root/tmp/deploy.out"
            chroot "$root" /usr/bin/rollclone status "$(grep -m1 "^d-" "$root/tmp/deploy.out")"
            fail "deploy of app-1 failed"
        fi
        cat "$root/tmp/deploy.out"
        serves || fail "app does not serve after the deploy"
        app=$(cat "$root/var/lib/pkgtest-app.pid")
        grep -qx "$app" "$cg/cgroup.procs" || fail "the app is not in the agent unit cgroup"
        # the operator upgrades: apt install ./rollclone-*_NEW.deb
        chroot "$root" sh -c "dpkg -i /tmp/v2/*.deb" </dev/null || fail "dpkg -i of the new version failed"
        # ... and the package restarts the units (here, as systemd would)
        mode=$(sed -n "s/^KillMode=//p" "$root/lib/systemd/system/rollclone-agent.service")
        echo "installed unit: KillMode=${mode:-control-group}"
        : >"$root/tmp/misses"
        touch "$root/tmp/probing"
        ( while [ -e "$root/tmp/probing" ]; do serves || echo miss >>"$root/tmp/misses"; sleep 0.1; done ) &
        prober=$!
        sleep 0.3
        case ${mode:-control-group} in
        control-group) kill -TERM $(cat "$cg/cgroup.procs") ;;
        *) kill -TERM "$agent" ;;
        esac
        wait "$agent"
        if [ "$mode" = mixed ]; then
            for p in $(cat "$cg/cgroup.procs"); do kill -KILL "$p" 2>/dev/null; done
        fi
        kill -TERM "$coord"; wait "$coord"; run_coord
        run_agent
        online_as "$4" || fail "upgraded agent $4 not online"
        sleep 0.5
        rm -f "$root/tmp/probing"; wait "$prober"
        ok=0
        serves || { echo "FAIL: the app stopped serving across the agent upgrade"; ok=1; }
        kill -0 "$app" 2>/dev/null || { echo "FAIL: the app process $app is gone"; ok=1; }
        [ ! -s "$root/tmp/misses" ] || { echo "FAIL: $(wc -l <"$root/tmp/misses") failed requests during the restart"; ok=1; }
        kill -TERM "$agent" "$coord"; wait "$agent" "$coord"
        kill "$app" 2>/dev/null
        exit $ok' sh "$root" "$cg" "$version" "$version2"
    rc=$?
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    rmdir "$cg" 2>/dev/null
    return $rc
}
check "root-upgrade-v2-app-keeps-serving" upgrade_keeps_app
check "root-upgraded-version" sh -c "chroot '$root' /usr/sbin/rollclone-agent --version \
    | grep -qx 'rollclone-agent $version2'"
check "root-upgrade-keeps-configs-and-keys" sh -c "cd '$root/etc/rollclone' && sha256sum -c '$work/before-upgrade.sha256'"
check "root-live-agent-online-after-upgrade" live_fleet
check "root-upgrade-edit-present" has_line "$root/etc/rollclone/agent.conf" '^id = edited-by-test$'
check "root-upgrade-no-dpkg-dist" sh -c "! ls '$root/etc/rollclone/' | grep -q dpkg"

# Remove keeps configuration, keys and state; purge removes them.
check "root-remove" in_root dpkg -r rollclone-agent rollclone-coordinator
check "root-remove-keeps-state" exists /var/lib/rollclone-agent/state-marker \
    /var/lib/rollclone-coordinator/state-marker /etc/rollclone/agent.conf /etc/rollclone/agent.key_secret
check "root-remove-binary-gone" not_exists /usr/sbin/rollclone-agent
check "root-purge" in_root dpkg -P rollclone-agent rollclone-coordinator rollclone-cli
check "root-purge-removes-state" not_exists /var/lib/rollclone-agent /var/lib/rollclone-coordinator \
    /etc/rollclone/agent.conf /etc/rollclone/agent.key /etc/rollclone/agent.key_secret \
    /etc/rollclone/coordinator.key_secret /etc/rollclone/operator.key_secret /etc/rollclone/operators \
    /etc/systemd/system/multi-user.target.wants/rollclone-agent.service
# The admitted agent key is the admin's file, not the package's: it stays.
check "root-purge-keeps-admins-files" sh -c "[ \"\$(find '$root/etc/rollclone' | sort | tr '\n' ' ')\" = \
    '$root/etc/rollclone $root/etc/rollclone/agents $root/etc/rollclone/agents/edited-by-test.key ' ]"
rm -rf "$root/etc/rollclone"

# A key pair that exists before the first install is kept as it is.
mkdir -p "$root/etc/rollclone"
printf 'not a real key, but ours\n' >"$root/etc/rollclone/agent.key"
printf 'not a real key, but ours\n' >"$root/etc/rollclone/agent.key_secret"
chmod 600 "$root/etc/rollclone/agent.key_secret"
check "root-install-with-existing-key" sh -c "chroot '$root' sh -c \
    'dpkg -i /tmp/v2/rollclone-cli_*.deb /tmp/v2/rollclone-agent_*.deb' </dev/null"
check "root-existing-key-untouched" sh -c "grep -qx 'not a real key, but ours' '$root/etc/rollclone/agent.key_secret'"
in_root dpkg -P rollclone-agent rollclone-cli >/dev/null 2>&1

# ---- rpm scriptlets, run in the same root by `rpm --root` ---------------
# The libraries are there from the debs' install; rpm's database is not,
# so --nodeps. systemctl is absent: the scriptlets must not mind.
rpm_install () {
    rpm --root "$root" --initdb &&
        rpm --root "$root" -i --nodeps "$(rpmf rollclone-cli)" "$(rpmf rollclone-agent)" \
            "$(rpmf rollclone-coordinator)" &&
        rpm --root "$root" -q rollclone-agent
}
check "rpm-root-install" rpm_install
check "rpm-root-keypairs" exists /etc/rollclone/agent.key_secret /etc/rollclone/coordinator.key_secret \
    /etc/rollclone/operators/local-root.key
check "rpm-root-coordinator-secret-0600" mode_is /etc/rollclone/coordinator.key_secret "600 rollclone:rollclone"
check "rpm-root-agent-version" sh -c "chroot '$root' /usr/sbin/rollclone-agent --version \
    | grep -qx 'rollclone-agent $version'"
sed -i 's/^#id = web-1$/id = edited-by-test/' "$root/etc/rollclone/agent.conf"
( cd "$root/etc/rollclone" && sha256sum agent.key agent.key_secret agent.conf ) >"$work/before-rpm-upgrade.sha256"
check "rpm-root-upgrade" rpm --root "$root" -U --nodeps "$(rpm2 rollclone-cli)" "$(rpm2 rollclone-agent)" \
    "$(rpm2 rollclone-coordinator)"
check "rpm-root-upgrade-keeps-config-and-keys" sh -c "cd '$root/etc/rollclone' && \
    sha256sum -c '$work/before-rpm-upgrade.sha256' && ! ls | grep -q rpmnew"
check "rpm-root-erase" rpm --root "$root" -e rollclone-agent rollclone-coordinator rollclone-cli
check "rpm-root-erase-binaries-gone" not_exists /usr/sbin/rollclone-agent /usr/bin/rollclone

# ---- make deb / make rpm on a fresh machine -------------------------------
# A second copy of the bare minbase root (nothing of ours, no compiler, no
# packaging tools) stands in for a fresh Debian 12 machine: given make and
# the source tree, `make deb` and `make rpm` must install what they need
# themselves and build the packages.
fresh=$(mktemp -d /var/tmp/rollclone-fresh.XXXXXX)
cp -a "$base/." "$fresh/"
cp /etc/resolv.conf "$fresh/etc/resolv.conf"
cp "$cache/archives/"*.deb "$fresh/var/cache/apt/archives/" 2>/dev/null || true
mount -t proc proc "$fresh/proc" 2>/dev/null || true
mkdir -p "$fresh/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$fresh/src"
else
    (cd "$top" && tar cf - --exclude='./build*' .) | tar xf - -C "$fresh/src"
fi
in_fresh () { chroot "$fresh" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" </dev/null; }
fresh_make () {
    in_fresh sh -c 'apt-get install -y -q make >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -q make; }' \
        || return 1
    in_fresh sh -c "command -v dh dpkg-buildpackage rpmbuild cc; true"
    in_fresh make -C /src -j2 "$1" || return 1
}
check "fresh-no-tools-before" sh -c "! chroot '$fresh' sh -c 'command -v cc || command -v dh || command -v rpmbuild'"
check "fresh-make-deb" fresh_make deb
check "fresh-make-deb-made" sh -c "ls '$fresh'/src/build/pkg/rollclone-agent_*.deb '$fresh'/src/build/pkg/rollclone-cli_*.deb \
    '$fresh'/src/build/pkg/rollclone-coordinator_*.deb"
check "fresh-make-rpm" fresh_make rpm
check "fresh-make-rpm-made" sh -c "ls '$fresh'/src/build/pkg/rollclone-agent-*.rpm '$fresh'/src/build/pkg/rollclone-cli-*.rpm \
    '$fresh'/src/build/pkg/rollclone-coordinator-*.rpm"
cp "$fresh/var/cache/apt/archives/"*.deb "$cache/archives/" 2>/dev/null || true

echo "package-test: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
if [ "$fail" != 0 ]; then
    echo "package-test: failed:$failed" >&2
    exit 1
fi

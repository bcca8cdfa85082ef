# checks_lib.sh - what the analysis-gate tests (t_checks*.sh) share, sourced
# after lib.sh: web apps that export http_requests_total,
# releases with an error rate, and a load that keeps requests flowing.
# The app and the load are C (rc_testweb --metrics, rc_testload; python3's
# took most of these tests' CPU).

# rc_metricweb I: [app web] of agent I, whose restart hook starts
# rc_testweb --metrics on its own port (install/drain/undrain as
# rc_webapp's, with RC_LB_SOCK for HAProxy). $T/agent-I/error_rate-V makes release V fail
# that share of requests on this host only; $T/agent-I/slow_restart (a
# number of seconds) makes its restarts that slow.
rc_metricweb () {
    i=$1; dir="$T/agent-$i"; port=$(rc_port)
    echo "$port" >"$dir/port"
    lb=""
    [ -z "${RC_LB_SOCK:-}" ] || lb="$port $RC_LB_SOCK web/host-$i"
    cat >"$dir/restart.sh" <<SH
#!/bin/sh
echo "restart \${ROLLCLONE_VERSION:-}" >>"$dir/hooks.log"
if [ -f "$dir/server.pid" ] && old=\$(cat "$dir/server.pid") && kill "\$old" 2>/dev/null; then
$(rc_gone_loop '$old')
fi
[ -f "$dir/slow_restart" ] && sleep "\$(cat "$dir/slow_restart")"
"$RC_TESTWEB" --metrics --port "$port" --dir "$dir/web/current" --host-dir "$dir" >>"$dir/server.log" 2>&1 </dev/null &
echo \$! >"$dir/server.pid"
SH
    cat >>"$T/agent-$i.conf" <<CONF

[app web]
releases_dir = $dir/web
install = sh $HOOK install $dir
restart = sh $dir/restart.sh
drain = sh $HOOK drain $dir $lb
undrain = sh $HOOK undrain $dir $lb
health_url = http://127.0.0.1:$port/health
health_interval = 100ms
hook_timeout = 20s
artifact_sources = file://$T/art/
CONF
}

# make_rated_release V RATE: a good release whose requests fail at RATE
make_rated_release () {
    make_release "$1"
    echo "$2" >"$T/art/src-$1/error_rate"
    tar -czf "$T/art/$1.tgz" -C "$T/art/src-$1" .
    sha256sum "$T/art/$1.tgz" | cut -d' ' -f1 >"$T/art/$1.sha"
}

# load_start URL...: four clients GET each URL in turn, each ~50 a second,
# until the test ends. Four, so that a loaded machine still gives each host
# enough responses per evaluation: with too few, an evaluation has no data,
# and a host whose evaluations all lack data passes its gate.
load_start () {
    rc_bg load "$RC_BUILD/rc_testload" --clients 4 --pause 20 "$@"
}

# events_of DEP KIND: the details of dep's events of that kind
events_of () {
    "$RC" events "$1" --json --limit 1000 |
        rc_jq '.events[] | select(.kind == $k) | "\(.host | pystr) \(.detail | pystr)"' --arg k "$2" 2>/dev/null
}

# rc_prometheus N: a real Prometheus on $P_PROM scraping the N metric
# apps every second, each labelled host=host-I; ready when it returns.
rc_prometheus () {
    {
        printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: web\n    static_configs:\n'
        for i in $(seq 1 "$1"); do
            printf '      - targets: ["127.0.0.1:%s"]\n        labels: {host: host-%s}\n' "$(cat "$T/agent-$i/port")" $i
        done
    } >"$T/prometheus.yml"
    rc_bg prometheus prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
        --web.listen-address="127.0.0.1:$P_PROM" --log.level=warn
    wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P_PROM/-/ready" || { cat "$T/prometheus.log"; fail "prometheus not ready"; }
}

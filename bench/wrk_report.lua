-- wrk_report.lua: one line wrk prints at its end for bench/zerodowntime.sh.
-- wrk counts HTTP statuses above 399 in errors.status; the backends answer
-- 200 only, so every one of them is a failed request (HAProxy's 503 for a
-- server that refused, NGINX's 502).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p99_us=%d max_us=%d secs=%.1f\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(99), latency.max, summary.duration / 1000000))
end

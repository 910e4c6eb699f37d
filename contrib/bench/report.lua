-- wrk script for the sluice benchmark: prints one machine-readable line
--   WRK requests=N duration_us=N bytes=N connect=N read=N write=N status=N timeout=N p50=US p90=US p99=US p999=US
-- An optional script argument (wrk ... URL -- MS) makes every connection pause
-- MS milliseconds after each response: a paced, below-saturation load for the
-- latency figure (wrk is closed-loop; wrk2 is not packaged in Debian).
function init(args)
  local ms = tonumber(args[1] or "")
  if ms and ms > 0 then
    delay = function() return ms end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local f = math.floor
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50=%d p90=%d p99=%d p999=%d\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    f(latency:percentile(50)), f(latency:percentile(90)),
    f(latency:percentile(99)), f(latency:percentile(99.9))))
end

-- The one line wrk scripts of this harness print when done, which compare.py and
-- replay/replay.sh read: "RESULT rps=… p50=… p99=… requests=… non2xx=… sockerr=…" (latencies
-- in ms). Loaded with dofile by peers/wrk.lua and replay/replay.lua.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50=%.3f p99=%.3f requests=%d non2xx=%d sockerr=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end

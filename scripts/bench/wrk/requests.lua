-- wrk script for scripts/bench/api_bench: cycles through prepared requests, one per line of a
-- file ("METHOD<TAB>PATH<TAB>BODY"), sends the given Authorization header, and prints one JSON
-- line with the counts and latency percentiles when the run ends.
--   wrk -t1 -c16 -d20s -s requests.lua http://127.0.0.1:8077 -- FILE "Bearer TOKEN"
local lines = {}
local next_line = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
    lines[#lines + 1] = { method, path, body ~= "" and body or nil }
  end
  wrk.headers["Authorization"] = args[2]
  wrk.headers["Content-Type"] = "application/json"
  -- Threads start at different places so they do not ask for the same plate at once.
  next_line = math.random(#lines) - 1
end

function request()
  next_line = next_line % #lines + 1
  local r = lines[next_line]
  return wrk.format(r[1], r[2], nil, r[3])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "mean_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end

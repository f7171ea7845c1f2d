-- wrk script replaying a request log (bench/workload.py: one GraphQL JSON body per line) in
-- order: thread i of n starts at line 1 + i * (lines / n) and goes on from there, cycling, so
-- the threads together send the log's popularity mix. $LOG_FILE names the log. When done, prints
-- one line: "RESULT rps=… p50=… p99=… requests=… non2xx=… sockerr=…" (latencies in ms).
local bodies = {}
for line in io.lines(os.getenv("LOG_FILE")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "the log is empty")

local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local threads = tonumber(os.getenv("WRK_THREADS") or "1")
local next_line
function init(args)
  next_line = 1 + math.floor((id or 0) * #bodies / threads)
end

local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
function request()
  local body = bodies[next_line]
  next_line = next_line % #bodies + 1
  return wrk.format("POST", "/graphql", headers, body)
end

-- `done`, which prints the RESULT line.
dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/../peers/wrk_result.lua")

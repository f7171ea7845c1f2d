-- wrk script of the peer comparison: POSTs the JSON body in $BODY_FILE and, when done, prints
-- one line that compare.py reads: "RESULT rps=… p50=… p99=… requests=… non2xx=… sockerr=…".
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

-- `done`, which prints the RESULT line.
dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/wrk_result.lua")

-- bench/put.lua - wrk script: PUT a PUT_SIZE-byte body (default 4096) to a
-- new object name on every request: PUT_PREFIX .. <thread>-<counter>, e.g.
-- PUT_PREFIX=/v1/AUTH_test/bench-put/c16- . Sends X-Auth-Token from
-- STOWAGE_TOKEN. With PUT_SPREAD=N the objects go round-robin into N
-- containers instead: PUT_PREFIX .. <k> .. "/o-" .. <thread>-<counter>, k in
-- 0..N-1 (the containers must exist). PUT_HEADER="Name: value" adds one header
-- to every PUT (e.g. "X-Delete-After: 3600"). (No response() hook: wrk's own
-- "Non-2xx or 3xx" count is the error count, and a Lua hook per response would
-- slow the client.)
local token = os.getenv("STOWAGE_TOKEN") or ""
local prefix = os.getenv("PUT_PREFIX") or "/v1/AUTH_test/bench-put/o-"
local size = tonumber(os.getenv("PUT_SIZE") or "4096")
local body = string.rep("s", size)
local spread = tonumber(os.getenv("PUT_SPREAD") or "0")
local nthreads = 0
local headers = { ["X-Auth-Token"] = token, ["Content-Type"] = "application/octet-stream" }
local extra_name, extra_value = (os.getenv("PUT_HEADER") or ""):match("^([^:]+):%s*(.*)$")
if extra_name then
   headers[extra_name] = extra_value
end

function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
end

local counter = 0

function request()
   counter = counter + 1
   local path
   if spread > 0 then
      path = prefix .. ((counter + tid) % spread) .. "/o-" .. tid .. "-" .. counter
   else
      path = prefix .. tid .. "-" .. counter
   end
   return wrk.format("PUT", path, headers, body)
end

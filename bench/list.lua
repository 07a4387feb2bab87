-- bench/list.lua - wrk script: container listings (JSON, LIST_LIMIT rows,
-- default 100) round-robin over LIST_SPREAD containers (default 1) named
-- LIST_PREFIX .. k, k in 0..LIST_SPREAD-1, e.g. /v1/AUTH_test/bench-db-.
-- Sends X-Auth-Token from STOWAGE_TOKEN.
local token = os.getenv("STOWAGE_TOKEN") or ""
local prefix = os.getenv("LIST_PREFIX") or "/v1/AUTH_test/bench-db-"
local spread = tonumber(os.getenv("LIST_SPREAD") or "1")
local query = "?format=json&limit=" .. (os.getenv("LIST_LIMIT") or "100")
local counter = 0

function request()
   counter = counter + 1
   return wrk.format("GET", prefix .. (counter % spread) .. query, { ["X-Auth-Token"] = token })
end

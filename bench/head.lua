-- bench/head.lua - wrk script: HEAD requests carrying X-Auth-Token from
-- STOWAGE_TOKEN (the separation probe of bench/overload.sh).
wrk.method = "HEAD"
local token = os.getenv("STOWAGE_TOKEN")
if token and token ~= "" then
   wrk.headers["X-Auth-Token"] = token
end

-- bench/token.lua - wrk script: every request carries X-Auth-Token from the
-- environment (STOWAGE_TOKEN). Used for the GET cases on both sides (the
-- static handler ignores the header), so both get the same request bytes.
local token = os.getenv("STOWAGE_TOKEN")
if token and token ~= "" then
   wrk.headers["X-Auth-Token"] = token
end

-- benchmarks/api.py: each request carries the next prepared (token, application id) pair.
--   wrk -t<T> ... -s rotate.lua http://host:port -- <pairs file> <mode> <T> [once]
-- pairs file: one "token<TAB>application id" a line. mode: list (GET /api/v1/applications),
-- one (GET /api/v1/applications/{id}), confirm (POST /api/v1/applications/{id}/confirm, empty body).
-- Thread n of T takes pairs n, n+T, n+2T, …; with `once` a thread stops when its share is spent, so no
-- pair is used twice (a repeated confirm changes nothing and would flatter the figure).

local tokens, ids = {}, {}
local mode, once, next_index = "list", false, 1

function setup(thread)
   thread_count = (thread_count or 0) + 1
   thread:set("thread_number", thread_count)
end

function init(args)
   local path = args[1]
   mode = args[2] or "list"
   local threads = tonumber(args[3] or "1")
   once = args[4] == "once"
   local n = 0
   for line in io.lines(path) do
      n = n + 1
      if (n - 1) % threads == (thread_number or 1) - 1 then
         local token, id = line:match("^(%S+)\t(%S+)$")
         tokens[#tokens + 1] = token
         ids[#ids + 1] = id
      end
   end
end

function request()
   if next_index > #tokens then
      if once then
         wrk.thread:stop()
      end
      next_index = 1
   end
   local i = next_index
   next_index = next_index + 1
   local headers = { ["Authorization"] = "Bearer " .. tokens[i] }
   if mode == "list" then
      return wrk.format("GET", "/api/v1/applications", headers)
   elseif mode == "one" then
      return wrk.format("GET", "/api/v1/applications/" .. ids[i], headers)
   end
   headers["Content-Length"] = "0"
   return wrk.format("POST", "/api/v1/applications/" .. ids[i] .. "/confirm", headers)
end

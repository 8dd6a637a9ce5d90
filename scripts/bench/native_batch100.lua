-- POST /tr/v1/: the same 100 purchases in spoor's own JSON, each with its own
-- event id (a UUID, as the browser SDK sends): the native path to compare
-- /v1/batch with. Each wrk thread has its own Lua state: setup gives each a
-- number of its own, and the prefix holds the start time, so no two threads
-- and no two runs send the same ids (JetStream would drop the repeats as
-- duplicates, and the baseline would do half the work).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local prefix
request = function()
  if not prefix then prefix = (os.time() % 0xfffffff) * 16 + (tid or 0) end
  n = n + 1
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format('{"eid":"%08x-%04x-4000-8000-%012x","uid":"u%d","ename":"Item Purchased","app":"bench",' ..
      '"props":{"revenue":14.99,"sku":"sku-%d"},"lv":"analytics-node-next@latest","created":"2026-11-28T10:00:00.000Z"}',
      prefix % 0xffffffff, i, n, i % 50, i)
  end
  return wrk.format(nil, nil, nil, '[' .. table.concat(parts, ",") .. ']')
end

-- POST /tr/v1/: segment_track.lua's purchase in spoor's own JSON, one event
-- with its own event id (a UUID, as the browser SDK sends) each time.
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
  return wrk.format(nil, nil, nil, string.format('{"eid":"%08x-%04x-4000-8000-%012x","uid":"u%d","ename":"Item Purchased","app":"bench",' ..
    '"props":{"revenue":14.99,"sku":"sku-%d"},"lv":"analytics-node-next@latest","created":"2026-11-28T10:00:00.000Z"}',
    prefix % 0xffffffff, n % 0xffff, n, n % 50, n))
end

-- POST /tr/v1/: the same 100 purchases in spoor's own JSON, each with its own
-- event id (a UUID, as the browser SDK sends): the native path to compare
-- /v1/batch with.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
local prefix = math.random(1, 0xfffffff)
request = function()
  n = n + 1
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format('{"eid":"%08x-%04x-4000-8000-%012x","uid":"u%d","ename":"Item Purchased","app":"bench",' ..
      '"props":{"revenue":14.99,"sku":"sku-%d"},"lv":"analytics-node-next@latest","created":"2026-11-28T10:00:00.000Z"}',
      prefix, i, n, i % 50, i)
  end
  return wrk.format(nil, nil, nil, '[' .. table.concat(parts, ",") .. ']')
end

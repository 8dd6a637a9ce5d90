-- POST /v1/batch: 100 track messages as analytics-node sends them (each with
-- its own messageId, so nothing is deduplicated away), Basic auth. Each wrk
-- thread has its own Lua state: setup gives each a number of its own, so two
-- threads never send the same messageIds.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. "d2tfYmVuY2hfa2V5XzAxOg==" -- base64("wk_bench_key_01:")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local prefix
request = function()
  if not prefix then prefix = tostring(os.time()) .. "-" .. tostring(tid or 0) end
  n = n + 1
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format('{"type":"track","messageId":"%s-%d-%d","userId":"u%d","event":"Item Purchased",' ..
      '"properties":{"revenue":14.99,"sku":"sku-%d"},"context":{"library":{"name":"analytics-node-next","version":"latest"}},' ..
      '"timestamp":"2026-11-28T10:00:00.000Z"}', prefix, n, i, i % 50, i)
  end
  return wrk.format(nil, nil, nil, '{"batch":[' .. table.concat(parts, ",") .. '],"sentAt":"2026-11-28T10:00:00.100Z"}')
end

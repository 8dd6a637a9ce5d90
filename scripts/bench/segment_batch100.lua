-- POST /v1/batch: 100 track messages as analytics-node sends them (each with
-- its own messageId, so nothing is deduplicated away), Basic auth.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. "d2tfYmVuY2hfa2V5XzAxOg==" -- base64("wk_bench_key_01:")
local n = 0
local prefix = tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format('{"type":"track","messageId":"%s-%d-%d","userId":"u%d","event":"Item Purchased",' ..
      '"properties":{"revenue":14.99,"sku":"sku-%d"},"context":{"library":{"name":"analytics-node-next","version":"latest"}},' ..
      '"timestamp":"2026-11-28T10:00:00.000Z"}', prefix, n, i, i % 50, i)
  end
  return wrk.format(nil, nil, nil, '{"batch":[' .. table.concat(parts, ",") .. '],"sentAt":"2026-11-28T10:00:00.100Z"}')
end

-- POST /v1/track: one track message as analytics-node sends it (its own
-- messageId each time), Basic auth: segment_batch100.lua's message alone.
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
  return wrk.format(nil, nil, nil, string.format('{"type":"track","messageId":"%s-%d","userId":"u%d","event":"Item Purchased",' ..
    '"properties":{"revenue":14.99,"sku":"sku-%d"},"context":{"library":{"name":"analytics-node-next","version":"latest"}},' ..
    '"timestamp":"2026-11-28T10:00:00.000Z","sentAt":"2026-11-28T10:00:00.100Z"}', prefix, n, n % 50, n))
end

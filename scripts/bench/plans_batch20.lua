-- POST native batches of 20 events of app "shop", whose names go round the
-- 50 events of the benchmark's plan (scripts/bench/plans.sh), each valid
-- against it: the cost measured is the checking, not a refusal.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local bodies = {}
for b = 0, 4 do
  local parts = {}
  for i = 1, 20 do
    local n = (b * 20 + i - 1) % 50 + 1
    parts[i] = string.format('{"app":"shop","ename":"Event %02d","vid":"016f2740-6e8c-11ea-9f0b-5d70c66851%02d",' ..
      '"url":"https://shop.example/rooms","props":{"id":"sku-%d","price":12.5,"currency":"USD","qty":%d,' ..
      '"tags":["summer","sale"],"color":"red"}}', n, i, b * 20 + i, i)
  end
  bodies[b + 1] = "[" .. table.concat(parts, ",") .. "]"
end
local k = 0
request = function()
  k = k % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[k])
end

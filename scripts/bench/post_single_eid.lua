-- POST one JSON event carrying a fresh client event id (as the browser SDK
-- sends): such a request keeps a bus message of its own (collector/group.go).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local body = '{"app":"native","uid":"179ea090-6e8c-11ea-bb89-1d0ba023ecf8","tz":"Europe/Warsaw","device":"Handset","os":"iOS 13.4","w":375,"h":667,"rel":1,"sid":"c1dcf340-6eaa-11ea-a0b8-6120e9776df7","time":1585149028377,"ename":"filter_results","etyp":"filter","ptyp":"own_rooms","page":1,"vid":"016f2740-6e8c-11ea-9f0b-5d70c66851be"}'
local hex = "0123456789abcdef"
local function h(n)
  local t = {}
  for i = 1, n do local r = math.random(16); t[i] = hex:sub(r, r) end
  return table.concat(t)
end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local eid = h(8) .. "-" .. h(4) .. "-4" .. h(3) .. "-a" .. h(3) .. "-" .. h(12)
  return wrk.format(nil, nil, nil, '{"eid":"' .. eid .. '",' .. body:sub(2))
end

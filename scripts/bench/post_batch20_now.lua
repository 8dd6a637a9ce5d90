-- POST a batch of 20 JSON events of 20 visitors, without a client time (the
-- collector's receipt is the event's time: GA4 takes events of the last 72
-- hours only), for the destinations' benchmark.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local parts = {}
for i = 1, 20 do
  parts[i] = string.format('{"app":"native","ename":"filter_results","etyp":"filter","ptyp":"own_rooms","page":%d,' ..
    '"vid":"016f2740-6e8c-11ea-9f0b-5d70c66851%02d","uid":"179ea090-6e8c-11ea-bb89-1d0ba023ec%02d","url":"https://shop.example/rooms",' ..
    '"tz":"Europe/Warsaw","device":"Handset","os":"iOS 13.4","w":375,"h":667}', i, i, i)
end
wrk.body = "[" .. table.concat(parts, ",") .. "]"

-- POST one JSON event.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"app":"native","uid":"179ea090-6e8c-11ea-bb89-1d0ba023ecf8","tz":"Europe/Warsaw","device":"Handset","os":"iOS 13.4","w":375,"h":667,"rel":1,"sid":"c1dcf340-6eaa-11ea-a0b8-6120e9776df7","time":1585149028377,"ename":"filter_results","etyp":"filter","ptyp":"own_rooms","page":1,"vid":"016f2740-6e8c-11ea-9f0b-5d70c66851be"}'

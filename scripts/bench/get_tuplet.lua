-- GET /tr/v1/<tuplets>: the seed Tracker's REST form.
wrk.method = "GET"

package collector

import (
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
)

// BenchmarkReadEvents is the collector's own work for one single-event POST
// (the wrk post_single body): tuplets, body, server fields, build, encode.
func BenchmarkReadEvents(b *testing.B) {
	body := []byte(`{"app":"native","uid":"179ea090-6e8c-11ea-bb89-1d0ba023ecf8","tz":"Europe/Warsaw","device":"Handset","os":"iOS 13.4","w":375,"h":667,"rel":1,"sid":"c1dcf340-6eaa-11ea-a0b8-6120e9776df7","time":1585149028377,"ename":"filter_results","etyp":"filter","ptyp":"own_rooms","page":1,"vid":"016f2740-6e8c-11ea-9f0b-5d70c66851be"}`)
	reg := prometheus.NewRegistry()
	c, err := New(Options{MaxBatchEvents: 500, MaxEventBytes: 64 << 10, HashKey: []byte("bench")}, nil, nil, reg, reg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555}, nil)
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.Header.SetUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 13_4 like Mac OS X)")
	ctx.Request.SetRequestURI("/tr/v1/")
	ctx.Request.SetBody(body)
	b.ReportAllocs()
	for b.Loop() {
		evs, _, _, _, err := c.readEvents(&ctx, "tr", "/", false, nil)
		if err != nil || len(evs) != 1 {
			b.Fatalf("readEvents: %d events, %v", len(evs), err)
		}
	}
}

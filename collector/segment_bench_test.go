package collector

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/clock"
	"github.com/spoor-dev/spoor/segment"
	"github.com/valyala/fasthttp"
)

// The bodies of scripts/bench/segment_batch100.lua and native_batch100.lua:
// the same 100 purchases, as analytics-node sends them to /v1/batch and in
// spoor's own JSON to /tr/v1/.
func segmentBatch100() []byte {
	parts := make([]string, 100)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"type":"track","messageId":"1764324000-1-7-%d","userId":"u%d","event":"Item Purchased",`+
			`"properties":{"revenue":14.99,"sku":"sku-%d"},"context":{"library":{"name":"analytics-node-next","version":"latest"}},`+
			`"timestamp":"2026-11-28T10:00:00.000Z"}`, i+1, (i+1)%50, i+1)
	}
	return []byte(`{"batch":[` + strings.Join(parts, ",") + `],"sentAt":"2026-11-28T10:00:00.100Z"}`)
}

func nativeBatch100() []byte {
	parts := make([]string, 100)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"eid":"0a1b2c3d-%04x-4000-8000-%012x","uid":"u%d","ename":"Item Purchased","app":"bench",`+
			`"props":{"revenue":14.99,"sku":"sku-%d"},"lv":"analytics-node-next@latest","created":"2026-11-28T10:00:00.000Z"}`,
			i+1, 7, (i+1)%50, i+1)
	}
	return []byte("[" + strings.Join(parts, ",") + "]")
}

func benchCollector(b testing.TB) *Collector {
	reg := prometheus.NewRegistry()
	c, err := New(Options{MaxBatchEvents: 500, MaxEventBytes: 64 << 10, HashKey: []byte("bench"),
		Segment: segment.KeysFrom(map[string]string{"wk_bench_key_01": "bench"}, nil)}, nil, nil, reg, reg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchRequest(uri string, body []byte) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555}, nil)
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.Header.SetUserAgent("analytics-node-next/latest")
	ctx.Request.SetRequestURI(uri)
	ctx.Request.SetBody(body)
	return &ctx
}

// BenchmarkBatch100 is the collector's own work for a batch of 100 events,
// up to the records it publishes: the Segment path (decode, then one
// record per hit) beside the native one (readEvents), events/s the same.
func BenchmarkBatch100(b *testing.B) {
	b.Run("segment", func(b *testing.B) {
		c, body := benchCollector(b), segmentBatch100()
		ctx := benchRequest("/v1/batch", body)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		var room segment.Scratch // as the handler keeps one per request in flight
		for b.Loop() {
			hits, failures, err := c.cfg.Segment.Decode(segment.Request{Call: "batch", Body: ctx.PostBody(), Now: clock.Now(),
				ClientIP: c.clientIP(ctx), Authorization: "Basic d2tfYmVuY2hfa2V5XzAxOg==", Scratch: &room})
			if err != nil || len(hits) != 100 || len(failures) != 0 {
				b.Fatalf("decode: %d hits, %d failures, %v", len(hits), len(failures), err)
			}
			var memo derived
			var out arena
			for i, h := range hits {
				if _, keep, err := c.hitRecord(h, &memo, &out, len(hits)-i); err != nil || !keep {
					b.Fatalf("hitRecord: %v", err)
				}
			}
		}
	})
	b.Run("native", func(b *testing.B) {
		c, body := benchCollector(b), nativeBatch100()
		ctx := benchRequest("/tr/v1/", body)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			evs, failed, _, _, err := c.readEvents(ctx, "tr", "/", false, nil)
			if err != nil || len(evs) != 100 || len(failed) != 0 {
				b.Fatalf("readEvents: %d events, %d failed, %v", len(evs), len(failed), err)
			}
		}
	})
}

// BenchmarkSingle is BenchmarkBatch100 for one message: POST /v1/track of
// one purchase beside a single native POST of the same event.
func BenchmarkSingle(b *testing.B) {
	b.Run("segment", func(b *testing.B) {
		c := benchCollector(b)
		body := []byte(`{"type":"track","messageId":"1764324000-1-7","userId":"u7","event":"Item Purchased",` +
			`"properties":{"revenue":14.99,"sku":"sku-7"},"context":{"library":{"name":"analytics-node-next","version":"latest"}},` +
			`"timestamp":"2026-11-28T10:00:00.000Z","sentAt":"2026-11-28T10:00:00.100Z"}`)
		ctx := benchRequest("/v1/track", body)
		b.ReportAllocs()
		var room segment.Scratch
		for b.Loop() {
			hits, _, err := c.cfg.Segment.Decode(segment.Request{Call: "track", Body: ctx.PostBody(), Now: clock.Now(),
				ClientIP: c.clientIP(ctx), Authorization: "Basic d2tfYmVuY2hfa2V5XzAxOg==", Scratch: &room})
			if err != nil || len(hits) != 1 {
				b.Fatalf("decode: %d hits, %v", len(hits), err)
			}
			var memo derived
			var out arena
			if _, keep, err := c.hitRecord(hits[0], &memo, &out, 1); err != nil || !keep {
				b.Fatalf("hitRecord: %v", err)
			}
		}
	})
	b.Run("native", func(b *testing.B) {
		c := benchCollector(b)
		ctx := benchRequest("/tr/v1/", []byte(`{"eid":"0a1b2c3d-0007-4000-8000-000000000007","uid":"u7","ename":"Item Purchased","app":"bench",`+
			`"props":{"revenue":14.99,"sku":"sku-7"},"lv":"analytics-node-next@latest","created":"2026-11-28T10:00:00.000Z"}`))
		b.ReportAllocs()
		for b.Loop() {
			evs, _, _, _, err := c.readEvents(ctx, "tr", "/", false, nil)
			if err != nil || len(evs) != 1 {
				b.Fatalf("readEvents: %d events, %v", len(evs), err)
			}
		}
	})
}

package proxy

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// discard keeps nothing: the benchmark is the proxy's own cost.
type discard struct{}

func (discard) Track(context.Context, ...schema.Hit) error { return nil }

// BenchmarkServeFast is one tracked GET through the fasthttp engine to a
// backend answering 1 KiB, over loopback: the hot path's time and
// allocations per request (the proxy's and the client's).
func BenchmarkServeFast(b *testing.B) {
	page := make([]byte, 1024)
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	backend := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetContentType("text/html"); ctx.SetBody(page) }}
	go backend.Serve(bln)
	defer backend.Shutdown()
	o := testOptions("http://" + bln.Addr().String())
	o.QueueSize = 1 << 16
	p, err := New(o, discard{}, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx, time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := p.FastServer(ServerLimits{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute})
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := &fasthttp.HostClient{Addr: ln.Addr().String()}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://site.example/product/42?ref=mail")
	req.Header.Set("Cookie", "vid=v-bench")
	req.Header.Set("User-Agent", "Mozilla/5.0 (bench)")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != 1024 {
			b.Fatalf("%v %d %d", err, resp.StatusCode(), len(resp.Body()))
		}
	}
}

package collector

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/valyala/fasthttp"
)

// offline is a bus that is down and a spool that keeps everything: the
// budget, not the store, is what these tests look at.
type offline struct{ appended int }

func (*offline) Publish(int, string, []byte) (bus.Pending, error) { panic("the bus is down") }
func (*offline) Connected() bool                                  { return false }
func (o *offline) Append(recs []spool.Record) error               { o.appended += len(recs); return nil }
func (*offline) Full() bool                                       { return false }

func budgetCollector(t *testing.T, size int64, wait time.Duration) (*Collector, *offline) {
	t.Helper()
	o := &offline{}
	reg := prometheus.NewRegistry()
	c, err := New(Options{MaxBatchEvents: 500, MaxEventBytes: 64 << 10, HashKey: []byte("k"), AckTimeout: wait,
		MaxInflightBytes: size, RetryAfterSec: 5}, o, o, reg, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return c, o
}

func testRequest(method, uri, body string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555}, nil)
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	if body != "" {
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.SetBody([]byte(body))
	}
	return &ctx
}

// With the budget spent, a request waits its time and is refused with 503
// and Retry-After, nothing read; a pixel still answers its GIF and counts
// the event lost; once room is made, a waiting request goes through.
func TestInflightBudget(t *testing.T) {
	const size = 1 << 20
	c, o := budgetCollector(t, size, 50*time.Millisecond)
	event := `{"ename":"e","vid":"v","pad":"` + strings.Repeat("x", 2000) + `"}`
	if !c.budget.take(size - 1000) { // others' requests in flight
		t.Fatal("the budget refused its first taker")
	}
	start := time.Now()
	ctx := testRequest("POST", "/tr/v1/", event)
	c.handle(ctx)
	if ctx.Response.StatusCode() != 503 || string(ctx.Response.Header.Peek("Retry-After")) != "5" ||
		!strings.Contains(string(ctx.Response.Body()), `"overloaded"`) {
		t.Fatalf("over budget: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("refused after %v, without waiting for room", waited)
	}
	px := testRequest("GET", "/img/v1/ename/open/vid/v", "")
	c.handle(px)
	if px.Response.StatusCode() != 200 || string(px.Response.Header.ContentType()) != "image/gif" {
		t.Fatalf("pixel over budget: %d %s", px.Response.StatusCode(), px.Response.Header.ContentType())
	}
	if o.appended != 0 {
		t.Fatalf("%d events kept over budget", o.appended)
	}
	// Room is made while the next request waits: it goes through.
	c2, o2 := budgetCollector(t, size, 2*time.Second)
	c2.budget.take(size - 1000)
	go func() { time.Sleep(30 * time.Millisecond); c2.budget.give(size - 1000) }()
	ctx = testRequest("POST", "/tr/v1/", event)
	c2.handle(ctx)
	if ctx.Response.StatusCode() != 200 || o2.appended != 1 {
		t.Fatalf("after room was made: %d %s, %d kept", ctx.Response.StatusCode(), ctx.Response.Body(), o2.appended)
	}
	if got := c2.budget.used.Load(); got != 0 {
		t.Fatalf("%d bytes still taken after every request was answered", got)
	}
	// A request larger than the whole budget takes all of it, not forever.
	c3, o3 := budgetCollector(t, 64<<10, time.Second)
	big := "[" + strings.TrimSuffix(strings.Repeat(event+",", 40), ",") + "]"
	ctx = testRequest("POST", "/tr/v1/", big)
	c3.handle(ctx)
	if ctx.Response.StatusCode() != 200 || o3.appended == 0 {
		t.Fatalf("a request above the budget: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

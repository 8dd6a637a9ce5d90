package collector

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/valyala/fasthttp"

	"golang.org/x/sync/semaphore"
)

// inflight is the collector's memory budget: the bytes of request bodies
// being turned into events and made durable at once
// (collector.max_inflight_bytes). A request takes its body's bytes before
// it is parsed and gives them back once it is answered; everything it
// allocates on the way (the events, their encoding, the bus messages, the
// group waiting for its PubAck) is a small multiple of them. When the
// budget is spent a request waits for room (the client is slowed), and
// past its wait it is refused with 503 and Retry-After: the collector's
// memory stays bounded whatever the load.
type inflight struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
	used atomic.Int64 // taken now (spoor_collector_inflight_bytes)
}

// DefaultMaxInflightBytes is collector.max_inflight_bytes' default.
const DefaultMaxInflightBytes = 64 << 20

func newInflight(size int64, wait time.Duration) *inflight {
	if size <= 0 {
		size = DefaultMaxInflightBytes
	}
	return &inflight{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

// weight is what a request of n body bytes takes: its body, and a little
// for what any request costs (headers, tuplets, one event).
func (f *inflight) weight(n int) int64 { return min(int64(n)+1024, f.size) }

// take waits up to the budget's wait for n bytes (see weight).
func (f *inflight) take(n int64) bool {
	if !f.sem.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(context.Background(), f.wait)
		defer cancel()
		if f.sem.Acquire(ctx, n) != nil {
			return false
		}
	}
	f.used.Add(n)
	return true
}

func (f *inflight) give(n int64) {
	f.used.Add(-n)
	f.sem.Release(n)
}

// room waits (up to the budget's wait) until a byte is free, and takes
// nothing: the server calls it after a request's headers, before reading
// its body, so that no more bodies are read while the budget is spent.
func (f *inflight) room() {
	if f.take(1) {
		f.give(1)
	}
}

// reserve takes the budget for ctx's body (a gzip body at an assumed 8×
// once inflated, at most http.max_decompressed_bytes): n to give back once
// the request is answered, or false when the budget stayed spent for the
// whole wait.
func (c *Collector) reserve(ctx *fasthttp.RequestCtx) (int64, bool) {
	body := len(ctx.Request.Body())
	if strings.EqualFold(string(ctx.Request.Header.ContentEncoding()), "gzip") {
		body = min(body*8, c.cfg.HTTP.MaxDecompressedBytes)
	}
	n := c.budget.weight(body)
	return n, c.budget.take(n)
}

// overloaded answers a request the budget had no room for: 503 with
// Retry-After, as while nothing can be made durable; nothing was read.
func (c *Collector) overloaded(ctx *fasthttp.RequestCtx) {
	c.m.Rejected.WithLabelValues("overloaded").Inc()
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(c.cfg.RetryAfterSec))
	reply.Error(ctx, fasthttp.StatusServiceUnavailable, "overloaded",
		"too many events in flight (collector.max_inflight_bytes), retry later")
}

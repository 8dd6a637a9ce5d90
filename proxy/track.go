package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
)

// Tracker keeps the proxy's events. Track returns nil once the event is
// durable (the collector's contract: JetStream's PubAck or its spool), or
// the reason it is not; concurrent calls may share one publish.
// The collector is one (app/ wires it in).
type Tracker interface {
	Track(ctx context.Context, hits ...schema.Hit) error
}

// filter says which paths are tracked: any include matches (or there are
// none), and no exclude does.
type filter struct{ include, exclude []*regexp.Regexp }

func newFilter(include, exclude []string) (filter, error) {
	var f filter
	for _, l := range []struct {
		src []string
		dst *[]*regexp.Regexp
	}{{include, &f.include}, {exclude, &f.exclude}} {
		for _, s := range l.src {
			re, err := regexp.Compile(s)
			if err != nil {
				return f, fmt.Errorf("compiling path filter %q: %w", s, err)
			}
			*l.dst = append(*l.dst, re)
		}
	}
	return f, nil
}

func (f filter) tracked(path string) bool {
	in := len(f.include) == 0
	for _, re := range f.include {
		if re.MatchString(path) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, re := range f.exclude {
		if re.MatchString(path) {
			return false
		}
	}
	return true
}

// recorder wraps the client's ResponseWriter to see the status and count
// the bytes sent. Unwrap lets http.ResponseController (which ReverseProxy
// uses to flush and to hijack for WebSockets) reach the real writer.
type recorder struct {
	http.ResponseWriter
	status  int
	bytes   int64
	timeout time.Duration // per write; 0: none
}

func (r *recorder) WriteHeader(code int) {
	if r.timeout > 0 {
		_ = http.NewResponseController(r.ResponseWriter).SetWriteDeadline(time.Now().Add(r.timeout))
	}
	if r.status == 0 || r.status < 200 { // 1xx answers come before the final one
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.timeout > 0 { // a client that stops reading is cut off, not waited on
		_ = http.NewResponseController(r.ResponseWriter).SetWriteDeadline(time.Now().Add(r.timeout))
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack is found through Unwrap by ResponseController; it is here too for
// callers that still type-assert http.Hijacker.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// countingBody counts the request body's bytes as the upstream reads them,
// and cuts off a client that trickles: each read must come within the
// body timeout (a deadline on the connection), and after the first
// rateGrace the body must average at least the minimum rate. A slowloris
// body thus holds its connection for seconds, not for ever.
type countingBody struct {
	io.ReadCloser
	n       int64
	rc      *http.ResponseController
	timeout time.Duration
	minRate int64 // bytes per second; 0: none
	start   time.Time
}

// errTooSlow ends a body sent slower than proxy.min_body_rate.
var errTooSlow = errors.New("request body arrives slower than proxy.min_body_rate")

// rateGrace: the minimum rate applies once a body has taken this long (a
// variable for the tests).
var rateGrace = 10 * time.Second

func (c *countingBody) Read(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.rc.SetReadDeadline(time.Now().Add(c.timeout))
	}
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	if err == io.EOF && c.timeout > 0 {
		// The server now watches the idle connection for the client going
		// away; a deadline left over would read as the client leaving and
		// cancel a response still streaming.
		_ = c.rc.SetReadDeadline(time.Time{})
	}
	if c.minRate > 0 && err == nil {
		if el := time.Since(c.start); el > rateGrace && float64(c.n) < float64(c.minRate)*el.Seconds() {
			return n, errTooSlow
		}
	}
	return n, err
}

// queue hands events to the Tracker off the request path: enqueue never
// blocks, and a full queue (size events, or maxBytes of them) counts the
// event lost. Enqueueing is an append
// under a lock, with no goroutine woken per event: on two shared cores a
// hand-off per request (a channel send to a waiting gatherer) costs the
// proxied requests' tail. Only a batch's first event (or a full batch)
// wakes the gatherer, which lets the batch gather for batchWait and hands
// it, in pieces of at most maxBatch, to the workers. Those publish several
// batches at a time while PubAcks are outstanding, so a busy proxy
// publishes a few hundred messages a second instead of one per request.
// The request was answered long before: the wait delays only the event.
type queue struct {
	mu       sync.Mutex
	buf      []schema.Hit // waiting for the gatherer, at most size
	size     int
	bytes    int // buf's hits' Size, at most maxBytes
	maxBytes int
	ready    chan struct{} // the buffer got its first event, or a full batch
	t        Tracker
	m        *metrics
	log      zerolog.Logger
	workers  int
}

const (
	maxBatch  = 256
	batchWait = 5 * time.Millisecond
)

func newQueue(size, maxBytes, workers int, t Tracker, m *metrics, log zerolog.Logger) *queue {
	if maxBytes <= 0 {
		maxBytes = DefaultQueueBytes
	}
	return &queue{size: size, maxBytes: maxBytes, ready: make(chan struct{}, 1), t: t, m: m, log: log, workers: workers}
}

// DefaultQueueBytes is proxy.queue_bytes' default.
const DefaultQueueBytes = 16 << 20

func (q *queue) enqueue(h schema.Hit) {
	sz := h.Size()
	q.mu.Lock()
	if len(q.buf) >= q.size || q.bytes+sz > q.maxBytes {
		q.mu.Unlock()
		q.m.events.WithLabelValues("lost_queue_full").Inc()
		return
	}
	q.buf = append(q.buf, h)
	q.bytes += sz
	n := len(q.buf)
	q.mu.Unlock()
	if n == 1 || n == maxBatch {
		select {
		case q.ready <- struct{}{}:
		default: // the gatherer is already told
		}
	}
}

// take empties the buffer.
func (q *queue) take() []schema.Hit {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.buf
	q.buf, q.bytes = make([]schema.Hit, 0, min(max(len(b), 16), q.size)), 0
	return b
}

func (q *queue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf)
}

// run publishes until ctx ends, then what is still queued within drain.
func (q *queue) run(ctx context.Context, drain time.Duration) {
	batches := make(chan []schema.Hit)
	var wg sync.WaitGroup
	for range q.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				q.publish(b)
			}
		}()
	}
	q.gather(ctx, batches)
	end := time.Now().Add(drain)
	left := q.take()
	for len(left) > 0 && time.Now().Before(end) {
		n := min(len(left), maxBatch)
		select {
		case batches <- left[:n:n]:
			left = left[n:]
		case <-time.After(time.Until(end)):
		}
	}
	close(batches)
	wg.Wait()
	if n := len(left) + q.pending(); n > 0 {
		q.m.events.WithLabelValues("lost_shutdown").Add(float64(n))
	}
}

// gather hands batches to the workers until ctx ends. A batch waits for a
// free worker; meanwhile events queue up in the buffer (and past its size
// are counted lost): the only back-pressure tracking applies.
func (q *queue) gather(ctx context.Context, batches chan<- []schema.Hit) {
	wait := time.NewTimer(batchWait)
	wait.Stop()
	for {
		select {
		case <-q.ready:
		case <-ctx.Done():
			return
		}
		if q.pending() < maxBatch { // let the batch gather, unless it fills first
			wait.Reset(batchWait)
			select {
			case <-wait.C:
			case <-q.ready:
				wait.Stop()
			case <-ctx.Done():
				wait.Stop()
				return
			}
		}
		for b := q.take(); len(b) > 0; {
			n := min(len(b), maxBatch)
			batches <- b[:n:n] // the workers never stop first; a publish ends within its timeout
			b = b[n:]
		}
	}
}

func (q *queue) publish(batch []schema.Hit) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.t.Track(ctx, batch...); err != nil {
		q.m.events.WithLabelValues("lost_unavailable").Add(float64(len(batch)))
		q.log.Warn().Err(err).Int("events", len(batch)).Msg("proxy events not kept; the requests were answered anyway")
		return
	}
	q.m.events.WithLabelValues("tracked").Add(float64(len(batch)))
}

// view is what an event records of a request, whichever engine (net/http
// or fasthttp) served it.
type view struct {
	scheme, host, uri, method, path, referer, userAgent, purpose, acceptLanguage string
	canary                                                                       bool // the X-Spoor-Canary header (spoor canary)
}

func viewOf(r *http.Request) view {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return view{scheme: scheme, host: r.Host, uri: r.URL.RequestURI(), method: r.Method, path: r.URL.Path, referer: r.Referer(),
		userAgent: r.UserAgent(), purpose: r.Header.Get("Sec-Purpose") + r.Header.Get("Purpose"), acceptLanguage: r.Header.Get("Accept-Language"),
		canary: schema.IsCanary([]byte(r.Header.Get(schema.CanaryHeader)))}
}

// hitOf describes one proxied request as an event.
func (p *Proxy) hitOf(v view, status int, bytesIn, bytesOut int64, st *state, start time.Time) schema.Hit {
	text := func(name, v string) schema.HitField {
		return schema.HitField{Name: name, Value: schema.TextValue(v)}
	}
	nums := make([]byte, 0, 64) // the four numbers' digits, one allocation
	num := func(name string, v int64) schema.HitField {
		at := len(nums)
		nums = strconv.AppendInt(nums, v, 10)
		return schema.HitField{Name: name, Value: schema.JSONValue(json.RawMessage(nums[at:len(nums):len(nums)]))}
	}
	f := make([]schema.HitField, 0, 13)
	f = append(f,
		text("ename", p.o.EventName),
		text("etyp", "server"),
		text("url", v.scheme+"://"+v.host+v.uri),
		text("method", v.method),
		text("host", v.host),
		text("path", v.path),
		num("status", int64(status)),
		num("duration", time.Since(start).Milliseconds()),
		num("bytes_in", bytesIn),
		num("bytes_out", bytesOut),
	)
	if p.o.App != "" {
		f = append(f, text("app", p.o.App))
	}
	if v.referer != "" {
		f = append(f, text("last", v.referer))
	}
	if st.up != nil {
		f = append(f, text("upstream", st.up.url.Host))
	}
	return schema.Hit{Endpoint: "proxy", Fields: f, IP: st.client, UserAgent: v.userAgent, VisitorID: st.vid, At: start,
		Method: v.method, Purpose: v.purpose, AcceptLanguage: v.acceptLanguage, Canary: v.canary}
}

// visitorOf is the request's first-party visitor cookie ("" when none).
func visitorOf(r *http.Request) string {
	if c, err := r.Cookie("vid"); err == nil {
		return c.Value
	}
	return ""
}

var errNoUpstream = errors.New("no upstream configured")

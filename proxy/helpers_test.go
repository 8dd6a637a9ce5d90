package proxy

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/forwarded"
	"github.com/spoor-dev/spoor/schema"
)

// hits records what the proxy tracked. The proxy's own tests are about
// what passes through it; the end-to-end tests (e2e/proxy_test.go) run it
// with the real collector, JetStream and a store.
type hits struct {
	mu   sync.Mutex
	got  []schema.Hit
	fail error
	wait chan struct{} // when set, Track blocks until it is closed
}

func (h *hits) Track(ctx context.Context, batch ...schema.Hit) error {
	if h.wait != nil {
		select {
		case <-h.wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail != nil {
		return h.fail
	}
	h.got = append(h.got, batch...)
	return nil
}

func (h *hits) all() []schema.Hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]schema.Hit(nil), h.got...)
}

// waitHits waits until n hits were tracked.
func (h *hits) waitHits(t *testing.T, n int) []schema.Hit {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := h.all(); len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("tracked %d events, want %d", len(h.all()), n)
	return nil
}

func field(h schema.Hit, name string) string {
	for _, f := range h.Fields {
		if f.Name == name {
			if f.Value.JSON != nil {
				return string(f.Value.JSON)
			}
			return f.Value.Text
		}
	}
	return ""
}

func testOptions(upstreams ...string) Options {
	o := Options{Via: "spoor", HealthInterval: 50 * time.Millisecond, HealthTimeout: time.Second, FailThreshold: 1,
		FailCooldown: time.Minute, DialTimeout: time.Second, ResponseHeaderTimeout: 10 * time.Second,
		TrackExclude: []string{`(?i)\.(css|js|png)$`}, EventName: "http_request", App: "site", QueueSize: 100}
	for _, u := range upstreams {
		pu, _ := url.Parse(u)
		o.Upstreams = append(o.Upstreams, pu)
	}
	return o
}

func cidrs(t *testing.T, list ...string) forwarded.Trust {
	trust, err := forwarded.Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

type running struct {
	URL string
	p   *Proxy
	reg *prometheus.Registry
}

// engine is the HTTP library a test serves the proxy with; every proxy
// test runs against both (decision 0003).
type engine string

const (
	netHTTP  engine = "nethttp"
	fastHTTP engine = "fasthttp"
)

// eachEngine runs f once per engine, as subtests named after them.
func eachEngine(t *testing.T, f func(t *testing.T, e engine)) {
	for _, e := range []engine{netHTTP, fastHTTP} {
		t.Run(string(e), func(t *testing.T) { f(t, e) })
	}
}

// start runs a proxy with o in front of its upstreams; it stops with the test.
func start(t *testing.T, e engine, o Options, tr Tracker) running {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := New(o, tr, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, time.Second); close(done) }()
	url := serve(t, e, p, ServerLimits{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute})
	t.Cleanup(func() { cancel(); <-done })
	return running{URL: url, p: p, reg: reg}
}

// serve serves p with engine e on a loopback port until the test ends.
func serve(t *testing.T, e engine, p *Proxy, l ServerLimits) string {
	t.Helper()
	if e == netHTTP {
		srv := httptest.NewUnstartedServer(p)
		srv.Config.ReadHeaderTimeout, srv.Config.IdleTimeout = l.ReadHeaderTimeout, l.IdleTimeout
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.FastServer(l)
	// fasthttp keeps idle workers (goroutines) for 10 s; the slow-client
	// test counts goroutines, and this one counts as left over.
	srv.MaxIdleWorkerDuration = 200 * time.Millisecond
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
		ln.Close()
		<-done
	})
	return "http://" + ln.Addr().String()
}

func (r running) events(outcome string) float64 {
	return testutil.ToFloat64(r.p.m.events.WithLabelValues(outcome))
}

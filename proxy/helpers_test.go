package proxy

import (
	"context"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/internal/forwarded"
)

// hits records what the proxy tracked. The proxy's own tests are about
// what passes through it; the end-to-end tests (e2e/proxy_test.go) run it
// with the real collector, JetStream and a store.
type hits struct {
	mu   sync.Mutex
	got  []collector.Hit
	fail error
	wait chan struct{} // when set, Track blocks until it is closed
}

func (h *hits) Track(ctx context.Context, batch ...collector.Hit) error {
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

func (h *hits) all() []collector.Hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]collector.Hit(nil), h.got...)
}

// waitHits waits until n hits were tracked.
func (h *hits) waitHits(t *testing.T, n int) []collector.Hit {
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

func field(h collector.Hit, name string) string {
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
	*httptest.Server
	p   *Proxy
	reg *prometheus.Registry
}

// start runs a proxy with o in front of its upstreams; it stops with the test.
func start(t *testing.T, o Options, tr Tracker) running {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := New(o, tr, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, time.Second); close(done) }()
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return running{Server: srv, p: p, reg: reg}
}

func (r running) events(outcome string) float64 {
	return testutil.ToFloat64(r.p.m.events.WithLabelValues(outcome))
}

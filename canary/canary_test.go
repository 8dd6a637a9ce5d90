package canary

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// storeFunc is a Store in a function: which probes the test says are
// stored (the real stores are tested end to end, e2e/canary_test.go).
type storeFunc func([]Probe) map[string]time.Time

func (f storeFunc) Find(_ context.Context, ps []Probe) (map[string]time.Time, error) {
	return f(ps), nil
}

// Found, lost after the timeout, a failed send, a destination's notice.
func TestLookCountsFoundAndLost(t *testing.T) {
	ok := func(context.Context, *http.Client, string) error { return nil }
	entries := []Entry{{Name: "json", App: "a", Send: ok}, {Name: "pixel", App: "a", Send: ok},
		{Name: "redirect", App: "a", Send: func(context.Context, *http.Client, string) error { return errors.New("502") }}}
	c, err := New(Options{Entries: entries, Timeout: 50 * time.Millisecond, Destinations: []string{"hooks"},
		Store: storeFunc(func(ps []Probe) map[string]time.Time {
			out := map[string]time.Time{}
			for _, p := range ps {
				if p.Entry == "json" {
					out[p.Visitor] = p.Sent.Add(30 * time.Millisecond)
				}
			}
			return out
		})}, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	c.Round(context.Background())
	var jsonVisitor string
	for v, p := range c.pending {
		if p.Entry == "json" {
			jsonVisitor = v
		}
	}
	c.seen([]byte(`{"visitor":"` + jsonVisitor + `","destination":"hooks","outcome":"left_out","at":"` +
		time.Now().Add(time.Second).Format(time.RFC3339Nano) + `"}`))
	c.Look(context.Background())
	time.Sleep(60 * time.Millisecond)
	c.Look(context.Background())
	for _, x := range []struct {
		v    prometheus.Collector
		want float64
	}{
		{c.m.found.WithLabelValues("json", "store"), 1},
		{c.m.found.WithLabelValues("json", "destination:hooks"), 1},
		{c.m.lost.WithLabelValues("json", "store"), 0},
		{c.m.lost.WithLabelValues("pixel", "store"), 1},
		{c.m.lost.WithLabelValues("pixel", "destination:hooks"), 1},
		{c.m.lost.WithLabelValues("redirect", "store"), 1},
		{c.m.sendErrors.WithLabelValues("redirect"), 1},
		{c.m.sent.WithLabelValues("pixel"), 1},
	} {
		if got := testutil.ToFloat64(x.v); got != x.want {
			t.Errorf("%v = %v, want %v", x.v.(prometheus.Metric).Desc(), got, x.want)
		}
	}
	if len(c.pending) != 0 {
		t.Errorf("%d probes still pending", len(c.pending))
	}
	if n := testutil.CollectAndCount(c.m.latency); n != 2 {
		t.Errorf("%d latency series, want 2 (json in the store and at hooks)", n)
	}
}

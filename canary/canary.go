// Package canary tests the tracking end to end, as the founding talk asks
// ("use a crawler to fire messages, look for them in the data stores"):
// every round it sends one marked event through each entry point, then
// looks for each in the store and waits for each destination to take it,
// exporting per entry point how long that took and how many never came.
package canary

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Store is where stored events are looked for.
type Store interface {
	// Find reports, of the probes given, those now stored and when each
	// was written (Cassandra's write time; a file's publish time).
	Find(ctx context.Context, probes []Probe) (map[string]time.Time, error)
}

// Probe is one marked event sent: its visitor id (unique per probe, how it
// is found) and app.
type Probe struct {
	Visitor, App, Entry string
	Sent                time.Time
}

// Seen is a destination's notice that it took a canary event (published by
// the destination workers on SeenSubject).
type Seen struct {
	Visitor     string    `json:"visitor"`
	Destination string    `json:"destination"`
	Outcome     string    `json:"outcome"` // delivered, left_out
	At          time.Time `json:"at"`
}

// SeenSubject is where destinations announce the canary events they took.
const SeenSubject = "spoor.canary.seen"

// Options configure a Canary.
type Options struct {
	Entries      []Entry // the entry points, one event each per round
	Interval     time.Duration
	Timeout      time.Duration
	Store        Store
	Destinations []string // the destinations expected to take each event
	// Listen subscribes fn to a subject until ctx ends (bus.Listen).
	Listen func(ctx context.Context, subject string, fn func([]byte)) error
	Client *http.Client
}

// Canary sends and looks.
type Canary struct {
	o   Options
	log zerolog.Logger
	m   metrics

	mu      sync.Mutex
	pending map[string]*pending // by visitor
}

type pending struct {
	Probe
	inStore bool
	waiting map[string]bool // destinations yet to take it
}

type metrics struct {
	sent, sendErrors *prometheus.CounterVec
	found, lost      *prometheus.CounterVec
	latency          *prometheus.HistogramVec
}

// New registers the canary's metrics.
func New(o Options, reg prometheus.Registerer, log zerolog.Logger) (*Canary, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	c := &Canary{o: o, log: log, pending: map[string]*pending{}, m: metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_canary_sent_total",
			Help: "Canary events sent, by entry point."}, []string{"entry"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_canary_send_errors_total",
			Help: "Canary requests not answered as the entry point answers an accepted event (counted lost too), by entry point."}, []string{"entry"}),
		found: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_canary_found_total",
			Help: "Canary events found, by entry point and where: store, or destination:<name>."}, []string{"entry", "where"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_canary_lost_total",
			Help: "Canary events not found within canary.timeout, by entry point and where."}, []string{"entry", "where"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "spoor_canary_latency_seconds",
			Help:    "From sending a canary event to its row written in the store (where=store) or its destination taking it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"entry", "where"}),
	}}
	for _, col := range []prometheus.Collector{c.m.sent, c.m.sendErrors, c.m.found, c.m.lost, c.m.latency} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("registering canary metrics: %w", err)
		}
	}
	for _, e := range o.Entries { // every series from the start: a rate over a missing series is no alert
		for _, where := range append([]string{"store"}, destLabels(o.Destinations)...) {
			c.m.found.WithLabelValues(e.Name, where)
			c.m.lost.WithLabelValues(e.Name, where)
		}
		c.m.sent.WithLabelValues(e.Name)
		c.m.sendErrors.WithLabelValues(e.Name)
	}
	return c, nil
}

func destLabels(ds []string) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = "destination:" + d
	}
	return out
}

// Run sends a round every Interval and looks for what is pending every
// second, until ctx ends.
func (c *Canary) Run(ctx context.Context) error {
	if len(c.o.Destinations) > 0 && c.o.Listen != nil {
		go func() {
			if err := c.o.Listen(ctx, SeenSubject, c.seen); err != nil && ctx.Err() == nil {
				c.log.Error().Err(err).Msg("canary: cannot hear the destinations; their figures will show losses")
			}
		}()
	}
	round := time.NewTicker(c.o.Interval)
	defer round.Stop()
	look := time.NewTicker(time.Second)
	defer look.Stop()
	c.Round(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-round.C:
			c.Round(ctx)
		case <-look.C:
			c.Look(ctx)
		}
	}
}

// Round sends one event through each entry point.
func (c *Canary) Round(ctx context.Context) {
	for _, e := range c.o.Entries {
		p := Probe{Visitor: "canary-" + e.Name + "-" + randomHex(8), App: e.App, Entry: e.Name, Sent: time.Now()}
		c.mu.Lock()
		w := map[string]bool{}
		for _, d := range c.o.Destinations {
			w[d] = true
		}
		c.pending[p.Visitor] = &pending{Probe: p, waiting: w}
		c.mu.Unlock()
		c.m.sent.WithLabelValues(e.Name).Inc()
		if err := e.Send(ctx, c.o.Client, p.Visitor); err != nil {
			c.m.sendErrors.WithLabelValues(e.Name).Inc()
			c.log.Warn().Err(err).Str("entry", e.Name).Msg("canary: sending failed")
			c.mu.Lock()
			delete(c.pending, p.Visitor)
			c.mu.Unlock()
			c.m.lost.WithLabelValues(e.Name, "store").Inc()
			for _, d := range destLabels(c.o.Destinations) {
				c.m.lost.WithLabelValues(e.Name, d).Inc()
			}
		}
	}
}

// Look asks the store for what is pending, and counts as lost what has
// waited past the timeout.
func (c *Canary) Look(ctx context.Context) {
	c.mu.Lock()
	var probes []Probe
	for _, p := range c.pending {
		if !p.inStore {
			probes = append(probes, p.Probe)
		}
	}
	c.mu.Unlock()
	if len(probes) > 0 {
		found, err := c.o.Store.Find(ctx, probes)
		if err != nil {
			c.log.Warn().Err(err).Msg("canary: looking in the store failed")
		}
		c.mu.Lock()
		for vid, at := range found {
			if p := c.pending[vid]; p != nil && !p.inStore {
				p.inStore = true
				c.m.found.WithLabelValues(p.Entry, "store").Inc()
				c.m.latency.WithLabelValues(p.Entry, "store").Observe(max(at.Sub(p.Sent), 0).Seconds())
			}
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for vid, p := range c.pending {
		if time.Since(p.Sent) > c.o.Timeout {
			if !p.inStore {
				c.m.lost.WithLabelValues(p.Entry, "store").Inc()
				c.log.Warn().Str("entry", p.Entry).Str("visitor", vid).Msg("canary: event not found in the store in time")
			}
			for d := range p.waiting {
				c.m.lost.WithLabelValues(p.Entry, "destination:"+d).Inc()
				c.log.Warn().Str("entry", p.Entry).Str("destination", d).Str("visitor", vid).Msg("canary: event not taken by the destination in time")
			}
			p.inStore, p.waiting = true, nil
		}
		if p.inStore && len(p.waiting) == 0 {
			delete(c.pending, vid)
		}
	}
}

// seen handles a destination's notice.
func (c *Canary) seen(data []byte) {
	var s Seen
	if json.Unmarshal(data, &s) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[s.Visitor]
	if p == nil || !p.waiting[s.Destination] {
		return
	}
	delete(p.waiting, s.Destination)
	where := "destination:" + s.Destination
	c.m.found.WithLabelValues(p.Entry, where).Inc()
	c.m.latency.WithLabelValues(p.Entry, where).Observe(max(s.At.Sub(p.Sent), 0).Seconds())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

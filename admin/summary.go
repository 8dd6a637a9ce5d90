package admin

import (
	"context"
	"sort"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Health is the pipeline's state for the dashboard, from the same
// counters /metrics serves (cumulative; the page takes differences).
type Health struct {
	At            time.Time `json:"at"`
	Received      float64   `json:"received"`       // events the collector took in
	Acked         float64   `json:"acked"`          // ... answered: held by JetStream or the spool
	Published     float64   `json:"published"`      // ... held by JetStream (directly or replayed from the spool)
	Spooled       float64   `json:"spooled"`        // ... written to the local spool (NATS unreachable)
	Lost          float64   `json:"lost"`           // ... refused with 503 or lost by the pixel/redirect (spool full)
	SpoolRecords  float64   `json:"spool_records"`  // waiting in the spool now
	SpoolBytes    float64   `json:"spool_bytes"`    // ... their size
	Stored        *float64  `json:"stored"`         // messages the sink stored (nil: no sink in this process)
	DeadLettered  *float64  `json:"dead_lettered"`  // events the sink dead-lettered
	StoreDown     bool      `json:"store_down"`     // the sink holds a batch the store refused whole
	Lag           *uint64   `json:"lag"`            // messages in the stream not yet stored (nil: unknown)
	NATSConnected bool      `json:"nats_connected"` // the collector's connection to NATS
	Viewers       int       `json:"viewers"`        // live views open on this collector
	LiveDropped   int64     `json:"live_dropped"`   // events this viewer missed (too slow)
	LagError      string    `json:"lag_error,omitempty"`
	// Destinations are the destinations' workers in this process
	// (docs/destinations.md), by name.
	Destinations []DestinationHealth `json:"destinations"`
	// Quality is the tracking plans' verdicts and violations, and the
	// failed events by reason (quality.go).
	Quality Quality `json:"quality"`
}

// DestinationHealth is one destination's counters and backlog.
type DestinationHealth struct {
	Name         string             `json:"name"`
	Delivered    float64            `json:"delivered"`
	DeadLettered float64            `json:"dead_lettered"`
	Skipped      map[string]float64 `json:"skipped"` // by reason
	Down         bool               `json:"down"`    // it refuses whole batches: held and retried
	Lag          *uint64            `json:"lag"`     // messages not yet delivered (nil: unknown)
}

// healthCache shares one reading a second among every open dashboard: a
// Gather of the registry and the consumers' state per viewer per second
// would cost the collector more than the viewers themselves.
type healthCache struct {
	mu sync.Mutex
	h  Health
}

// sharedHealth is health, read at most once a second.
func (a *Admin) sharedHealth(ctx context.Context) Health {
	a.healthC.mu.Lock()
	defer a.healthC.mu.Unlock()
	if time.Since(a.healthC.h.At) >= 900*time.Millisecond {
		a.healthC.h = a.health(ctx)
	}
	return a.healthC.h
}

// health reads the counters from the registry, and the lag from the bus.
func (a *Admin) health(ctx context.Context) Health {
	h := Health{At: time.Now().UTC()}
	lo := a.o.Live
	if lo.Gatherer != nil {
		if mfs, err := lo.Gatherer.Gather(); err == nil {
			sum := map[string]float64{}
			seen := map[string]bool{}
			dests := map[string]*DestinationHealth{}
			for _, mf := range mfs {
				seen[mf.GetName()] = true
				for _, m := range mf.GetMetric() {
					v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
					sum[mf.GetName()] += v
					if d := destinationOf(m.GetLabel(), dests); d != nil {
						d.add(mf.GetName(), m.GetLabel(), v)
					}
				}
			}
			h.Quality = a.quality(mfs)
			if lo.Connected == nil || lo.Connected() {
				lctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				a.loss(lctx, &h.Quality)
				cancel()
			}
			for _, d := range dests {
				h.Destinations = append(h.Destinations, *d)
			}
			sort.Slice(h.Destinations, func(i, j int) bool { return h.Destinations[i].Name < h.Destinations[j].Name })
			h.Received, h.Acked = sum["spoor_collector_events_received_total"], sum["spoor_collector_events_acked_total"]
			h.Published, h.Spooled = sum["spoor_collector_events_published_total"], sum["spoor_collector_events_spooled_total"]
			h.Lost, h.SpoolRecords, h.SpoolBytes = sum["spoor_collector_events_lost_total"], sum["spoor_spool_records"], sum["spoor_spool_bytes"]
			if seen["spoor_sink_events_stored_total"] {
				stored, dead := sum["spoor_sink_events_stored_total"], sum["spoor_sink_dead_letters_total"]
				h.Stored, h.DeadLettered, h.StoreDown = &stored, &dead, sum["spoor_sink_store_down"] > 0
			}
		}
	}
	if lo.Connected != nil {
		h.NATSConnected = lo.Connected()
	}
	if lo.Lag != nil && h.NATSConnected {
		lctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		if n, err := lo.Lag(lctx); err == nil {
			h.Lag = &n
		} else {
			h.LagError = err.Error()
		}
		cancel()
	}
	if lo.Hub != nil {
		h.Viewers = lo.Hub.Viewers()
	}
	if lo.DestinationLag != nil && h.NATSConnected {
		for i := range h.Destinations {
			lctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			if n, err := lo.DestinationLag(lctx, h.Destinations[i].Name); err == nil {
				h.Destinations[i].Lag = &n
			}
			cancel()
		}
	}
	return h
}

// destinationOf is the destination a metric's labels name, made on first
// sight; nil for a metric of no destination.
func destinationOf(labels []*dto.LabelPair, dests map[string]*DestinationHealth) *DestinationHealth {
	for _, l := range labels {
		if l.GetName() == "destination" {
			d := dests[l.GetValue()]
			if d == nil {
				d = &DestinationHealth{Name: l.GetValue(), Skipped: map[string]float64{}}
				dests[l.GetValue()] = d
			}
			return d
		}
	}
	return nil
}

// add takes one destination metric's value.
func (d *DestinationHealth) add(name string, labels []*dto.LabelPair, v float64) {
	switch name {
	case "spoor_destination_events_delivered_total":
		d.Delivered += v
	case "spoor_destination_dead_letters_total":
		d.DeadLettered += v
	case "spoor_destination_down":
		d.Down = d.Down || v > 0
	case "spoor_destination_events_skipped_total":
		for _, l := range labels {
			if l.GetName() == "reason" {
				d.Skipped[l.GetValue()] += v
			}
		}
	}
}

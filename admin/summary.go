package admin

import (
	"context"
	"sync"
	"time"
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
			for _, mf := range mfs {
				seen[mf.GetName()] = true
				for _, m := range mf.GetMetric() {
					v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
					sum[mf.GetName()] += v
				}
			}
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
	return h
}

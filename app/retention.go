package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/person"
)

// SweepRetention removes from the store what is past each app's retention
// (quality.retention_days) and writes each app's sweep to forget_log
// (`spoor retention sweep`; the store sink does it every
// quality.retention_sweep_interval).
func SweepRetention(ctx context.Context, cfg config.Config, log zerolog.Logger) ([]person.Report, error) {
	s, closeFn, err := OpenPeople(cfg, log)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return s.Sweep(ctx, cfg.Quality.Retention(), time.Now())
}

// leaseBucket holds the retention sweep's lease: the first store sink to
// create its key in an interval sweeps; the key expires with the bucket's
// TTL, half the interval.
const leaseBucket = "spoor_retention_lease"

// startRetention sweeps in the store sinks that consume partition 0, one of
// them per interval (the lease), at start and every
// quality.retention_sweep_interval, when a retention is set.
func (a *App) startRetention(ctx context.Context) {
	if a.cfg.Quality.Retention().Off() || (len(a.cfg.Sink.Partitions) > 0 && !slices.Contains(a.cfg.Sink.Partitions, 0)) {
		return
	}
	removed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_retention_removed_total",
		Help: "Rows (Cassandra) or lines (files) removed by the retention sweeps, by table, beyond what TTLs expired."}, []string{"table"})
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "spoor_retention_last_sweep_timestamp_seconds",
		Help: "When the last retention sweep ended without error (Unix seconds)."})
	a.Reg.MustRegister(removed, last)
	a.sinkWG.Add(1)
	go func() {
		defer a.sinkWG.Done()
		t := time.NewTicker(a.cfg.Quality.RetentionSweepInterval)
		defer t.Stop()
		lease, err := a.Bus.KeyValueTTL(ctx, leaseBucket, a.cfg.Quality.RetentionSweepInterval/2)
		if err != nil {
			a.log.Error().Err(err).Msg("retention: no lease bucket; this sink does not sweep")
			return
		}
		for {
			start := time.Now()
			var reps []person.Report
			_, err := lease.Create(ctx, "sweep", []byte(start.UTC().Format(time.RFC3339)))
			switch {
			case errors.Is(err, jetstream.ErrKeyExists): // another sink sweeps in this interval
			case err != nil:
				a.log.Warn().Err(err).Msg("retention: cannot take the sweep's lease; the next interval retries")
			default:
				reps, err = SweepRetention(ctx, a.cfg, a.log)
				for _, r := range reps {
					for table, n := range r.Removed {
						removed.WithLabelValues(table).Add(float64(n))
					}
					a.log.Info().Str("app", r.App).Strs("retention", r.IDs).Interface("removed", r.Removed).Dur("took", time.Since(start)).Msg("retention sweep")
				}
				if err != nil && ctx.Err() == nil {
					a.log.Error().Err(fmt.Errorf("sweeping past retention: %w", err)).Msg("retention sweep failed; the next one retries")
				} else if err == nil {
					last.SetToCurrentTime() // after the counts: a reader that sees it sees them
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

package app

import (
	"context"
	"fmt"
	"slices"
	"time"

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

// startRetention sweeps in the store sink that consumes partition 0 (one
// sweeper per cluster), at start and every quality.retention_sweep_interval,
// when a retention is set.
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
		for {
			start := time.Now()
			reps, err := SweepRetention(ctx, a.cfg, a.log)
			if err != nil && ctx.Err() == nil {
				a.log.Error().Err(fmt.Errorf("sweeping past retention: %w", err)).Msg("retention sweep failed; the next one retries")
			}
			for _, r := range reps {
				for table, n := range r.Removed {
					removed.WithLabelValues(table).Add(float64(n))
				}
				a.log.Info().Str("app", r.App).Strs("retention", r.IDs).Interface("removed", r.Removed).Dur("took", time.Since(start)).Msg("retention sweep")
			}
			if err == nil {
				last.SetToCurrentTime()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

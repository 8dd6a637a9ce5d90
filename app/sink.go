package app

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// newSink picks the store: Cassandra when configured, else the file store.
func newSink(cfg config.Config, log zerolog.Logger) sinks.Sink {
	if cfg.SinkType() == "cassandra" {
		s := cassandra.New(cfg.Cassandra, log)
		s.Retain(cfg.Quality.Retention())
		return s
	}
	return file.New(file.Options{Dir: cfg.File.Dir, RollBytes: cfg.File.RollBytes,
		RollInterval: cfg.File.RollInterval, DedupWindow: cfg.File.DedupWindow}, log)
}

func (a *App) startSink(ctx, runCtx context.Context) error {
	a.sink = newSink(a.cfg, a.log)
	if err := a.sink.Open(ctx); err != nil {
		a.sink = nil
		return fmt.Errorf("opening %s sink: %w", a.cfg.SinkType(), err)
	}
	cons, err := a.Bus.Consumer(ctx, bus.ConsumerOptions{Durable: a.cfg.Sink.Consumer, AckWait: a.cfg.Sink.AckWait,
		MaxAckPending: a.cfg.Sink.MaxAckPending, Partitions: a.cfg.Sink.Partitions, MaxBytes: a.cfg.Sink.BatchBytes})
	if err != nil {
		return err
	}
	if f, ok := a.sink.(interface{ ForgottenDropped() int64 }); ok {
		a.Reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spoor_sink_forgotten_events_total",
			Help: "Events dropped on arrival because their person was forgotten (spoor forget)."},
			func() float64 { return float64(f.ForgottenDropped()) }))
	}
	meter, err := a.lossMeter(ctx)
	if err != nil {
		return err
	}
	s := a.cfg.Sink
	w := sinks.NewWorker(a.sink, cons, a.Bus, sinks.WorkerOptions{Consumer: s.Consumer, BatchSize: s.BatchSize, BatchWait: s.BatchWait,
		RateLimit: s.RateLimit, Backoff: s.Backoff, WriteTimeout: s.WriteTimeout, AckWait: s.AckWait, Observer: meter}, a.Reg, a.log)
	a.sinkWG.Add(1)
	go func() {
		defer a.sinkWG.Done()
		_ = w.Run(runCtx)
	}()
	if f, ok := a.sink.(interface{ Expired() int64 }); ok {
		a.Reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spoor_sink_expired_events_total",
			Help: "Events not written because they arrived already past their app's retention (quality.retention_days)."},
			func() float64 { return float64(f.Expired()) }))
	}
	a.watchBacklog(runCtx, s.Consumer)
	a.startRetention(runCtx)
	return a.startFailed(ctx, runCtx)
}

// ApplySchema creates or migrates the Cassandra keyspace and tables
// (`spoor schema apply`; the sink does it at start with
// cassandra.apply_schema).
func ApplySchema(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return cassandra.Apply(ctx, cfg.Cassandra, log)
}

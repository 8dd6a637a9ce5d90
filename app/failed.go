package app

import (
	"context"
	"fmt"

	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// FailedConsumer is the durable consumer of the failed stream.
const FailedConsumer = "spoor-failed-store"

// startFailed runs the failed events' store beside the event store: the
// failed stream into data/failed (next to the events), or Cassandra's
// failed_events table, on a worker of its own.
func (a *App) startFailed(ctx, runCtx context.Context) error {
	if a.cfg.NATS.FailedStream == "" {
		return nil
	}
	if a.cfg.SinkType() == "cassandra" {
		f := cassandra.NewFailed(a.cfg.Cassandra, a.log)
		f.Retain(a.cfg.Quality.Retention())
		a.failed = f
	} else {
		a.failed = file.New(file.Options{Dir: file.PathsOf(a.cfg.File.Dir).Failed, RollBytes: a.cfg.File.RollBytes,
			RollInterval: a.cfg.File.RollInterval, DedupWindow: a.cfg.File.DedupWindow, NoLinks: true}, a.log.With().Str("store", "failed").Logger())
	}
	if err := a.failed.Open(ctx); err != nil {
		a.failed = nil
		return fmt.Errorf("opening the failed events' store: %w", err)
	}
	s := a.cfg.Sink
	cons, err := a.Bus.Consumer(ctx, bus.ConsumerOptions{Durable: FailedConsumer, AckWait: s.AckWait,
		MaxAckPending: s.MaxAckPending, Partitions: []int{bus.FailedPart}, MaxBytes: bus.MinFetchBytes})
	if err != nil {
		return err
	}
	w := sinks.NewWorker(a.failed, cons, a.Bus, sinks.WorkerOptions{Consumer: FailedConsumer, BatchSize: s.BatchSize,
		BatchWait: s.BatchWait, Backoff: s.Backoff, WriteTimeout: s.WriteTimeout, AckWait: s.AckWait, Metrics: "failed"}, a.Reg, a.log)
	a.sinkWG.Add(1)
	go func() {
		defer a.sinkWG.Done()
		_ = w.Run(runCtx)
	}()
	return nil
}

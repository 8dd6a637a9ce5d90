package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks"
	_ "github.com/spoor-dev/spoor/sinks/all" // every destination type
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// DestinationConsumer is the durable consumer of a destination: its own,
// so that its backlog is its own.
func DestinationConsumer(name string) string { return "spoor-dest-" + name }

// startDestinations starts a worker for every configured destination, each
// on its own durable consumer of every partition the sink consumes.
func (a *App) startDestinations(ctx, runCtx context.Context) error {
	for _, d := range a.cfg.Destinations {
		if err := a.startDestination(ctx, runCtx, d); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) startDestination(ctx, runCtx context.Context, d config.Destination) error {
	log := a.log.With().Str("destination", d.Name).Logger()
	dest, err := sinks.NewDestination(d.Type, sinks.Destination{Name: d.Name, Settings: d.Settings, BatchSize: d.BatchSize, Log: log})
	if err != nil {
		return err
	}
	if err := dest.Open(ctx); err != nil {
		return fmt.Errorf("opening destination %s: %w", d.Name, err)
	}
	a.destinations = append(a.destinations, dest)
	s := a.cfg.Sink
	cons, err := a.Bus.Consumer(ctx, bus.ConsumerOptions{Durable: DestinationConsumer(d.Name), AckWait: s.AckWait,
		MaxAckPending: s.MaxAckPending, Partitions: s.Partitions, StartAtNew: true, MaxBytes: bus.MinFetchBytes})
	if err != nil {
		return err
	}
	f := &sinks.Filter{Apps: d.Filter.Apps, Events: d.Filter.Events, Endpoints: d.Filter.Endpoints, Consent: d.Consent,
		KeepBots: d.Filter.ExcludeBots != nil && !*d.Filter.ExcludeBots}
	w := sinks.NewWorker(dest, cons, a.Bus, sinks.WorkerOptions{Consumer: DestinationConsumer(d.Name), BatchSize: s.BatchSize,
		BatchWait: s.BatchWait, WriteTimeout: s.WriteTimeout, AckWait: s.AckWait,
		Delivery: &sinks.DeliveryOptions{Destination: d.Name, Keep: f.Keep, RetryWindow: d.RetryWindow,
			MinBackoff: d.MinBackoff, MaxBackoff: d.MaxBackoff, Forgotten: a.forgottenSource()}}, a.Reg, log)
	a.sinkWG.Add(1)
	go func() {
		defer a.sinkWG.Done()
		_ = w.Run(runCtx)
	}()
	log.Info().Str("type", d.Type).Msg("destination started")
	return nil
}

// forgottenSource reads the forgotten people from the store the sink
// writes to, for the destinations: the file store's forgotten file, or
// Cassandra's forgotten table (over a session opened on first use).
func (a *App) forgottenSource() func(ctx context.Context) (map[[3]string]bool, error) {
	if a.cfg.SinkType() != "cassandra" {
		path := file.PathsOf(a.cfg.File.Dir).Forgotten
		return func(context.Context) (map[[3]string]bool, error) { return file.ReadForgotten(path) }
	}
	var mu sync.Mutex
	return func(ctx context.Context) (map[[3]string]bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if a.destSession == nil {
			s, err := cassandraSession(a.cfg, a.log)
			if err != nil {
				return nil, err
			}
			a.destSession = s
		}
		return cassandra.ReadForgotten(ctx, a.destSession, a.cfg.Cassandra.Keyspace)
	}
}

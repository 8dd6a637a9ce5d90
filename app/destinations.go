package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/schema"
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
		KeepBots: d.Filter.ExcludeBots != nil && !*d.Filter.ExcludeBots, KeepCanary: d.Filter.IncludeCanary}
	w := sinks.NewWorker(dest, cons, a.Bus, sinks.WorkerOptions{Consumer: DestinationConsumer(d.Name), BatchSize: s.BatchSize,
		BatchWait: s.BatchWait, WriteTimeout: s.WriteTimeout, AckWait: s.AckWait,
		Delivery: &sinks.DeliveryOptions{Destination: d.Name, Keep: f.Keep, RetryWindow: d.RetryWindow,
			MinBackoff: d.MinBackoff, MaxBackoff: d.MaxBackoff, Forgotten: a.forgottenSource(), Seen: a.canarySeen(d.Name)}}, a.Reg, log)
	a.sinkWG.Add(1)
	go func() {
		defer a.sinkWG.Done()
		_ = w.Run(runCtx)
	}()
	a.watchBacklog(runCtx, DestinationConsumer(d.Name))
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

// Replayer is one destination opened outside its worker, for the commands
// that send it events themselves (a backfill, a dead letter's replay):
// the same filter, consent and forgotten people as its worker, the same
// retries, one batch at a time.
type Replayer struct {
	Name     string
	sink     sinks.Sink
	filter   *sinks.Filter
	gone     func(ctx context.Context) (map[[3]string]bool, error)
	delivery *sinks.DeliveryOptions
	closer   func()
}

// OpenReplayer opens the configured destination name.
func OpenReplayer(ctx context.Context, cfg config.Config, name string, log zerolog.Logger) (*Replayer, error) {
	var d *config.Destination
	for i := range cfg.Destinations {
		if cfg.Destinations[i].Name == name {
			d = &cfg.Destinations[i]
		}
	}
	if d == nil {
		var names []string
		for _, x := range cfg.Destinations {
			names = append(names, x.Name)
		}
		return nil, fmt.Errorf("no destination %q in the configuration (there are: %v)", name, names)
	}
	dest, err := sinks.NewDestination(d.Type, sinks.Destination{Name: d.Name, Settings: d.Settings, BatchSize: d.BatchSize, Log: log})
	if err != nil {
		return nil, err
	}
	if err := dest.Open(ctx); err != nil {
		return nil, fmt.Errorf("opening destination %s: %w", d.Name, err)
	}
	a := &App{cfg: cfg, log: log}
	r := &Replayer{Name: d.Name, sink: dest, gone: a.forgottenSource(),
		filter: &sinks.Filter{Apps: d.Filter.Apps, Events: d.Filter.Events, Endpoints: d.Filter.Endpoints, Consent: d.Consent,
			KeepBots: d.Filter.ExcludeBots != nil && !*d.Filter.ExcludeBots, KeepCanary: d.Filter.IncludeCanary},
		delivery: &sinks.DeliveryOptions{Destination: d.Name, RetryWindow: d.RetryWindow, MinBackoff: d.MinBackoff, MaxBackoff: d.MaxBackoff}}
	r.closer = func() {
		_ = dest.Close()
		if a.destSession != nil {
			a.destSession.Close()
		}
	}
	return r, nil
}

// Close releases the destination.
func (r *Replayer) Close() { r.closer() }

// Skipped marks an event the destination's filter, consent or forgotten
// people leave out: not sent, and not a failure.
var Skipped = errors.New("left out by the destination's filter, consent or forgotten people")

// Send delivers events in order, each visitor's in order: every event's
// result (nil: delivered; Skipped; or the failure). A transient failure is
// retried tries times on the destination's backoff; past that it stays,
// and the visitor's later events are not sent.
func (r *Replayer) Send(ctx context.Context, events []*schema.Event, tries int) []error {
	errs := make([]error, len(events))
	gone, err := r.gone(ctx)
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("reading the forgotten people: %w", err)
		}
		return errs
	}
	var idx []int
	var send []*schema.Event
	for i, e := range events {
		forgotten := e.VisitorID != "" && gone[[3]string{e.App, "visitor", e.VisitorID}] || e.UserID != "" && gone[[3]string{e.App, "user", e.UserID}]
		if keep, _ := r.filter.Keep(e); !keep || forgotten {
			errs[i] = Skipped
			continue
		}
		idx, send = append(idx, i), append(send, e)
	}
	for attempt := 1; len(send) > 0; attempt++ {
		werr := r.sink.Write(ctx, send)
		var retryIdx []int
		var retry []*schema.Event
		for k, e := range send {
			err := sinksErrorAt(werr, k)
			errs[idx[k]] = err
			if err != nil && !errors.Is(err, sinks.ErrPermanent) {
				retryIdx, retry = append(retryIdx, idx[k]), append(retry, e)
			}
		}
		if len(retry) == 0 || attempt >= tries {
			break
		}
		select {
		case <-ctx.Done():
			return errs
		case <-time.After(r.delivery.Backoff(uint64(attempt))):
		}
		idx, send = retryIdx, retry
	}
	return errs
}

func sinksErrorAt(err error, i int) error {
	var be *sinks.BatchError
	if errors.As(err, &be) {
		if i < len(be.Errs) {
			return be.Errs[i]
		}
		return nil
	}
	return err
}

// Refused reports whether a Send result is a refusal no retry can fix.
func Refused(err error) bool { return errors.Is(err, sinks.ErrPermanent) }

// ReadEventFiles calls fn with every event line of the file store's files
// under dir (an events directory, or a day or hour of it), oldest first.
func ReadEventFiles(dir string, fn func(line []byte) error) error {
	paths, err := file.Files(dir)
	if err != nil {
		return fmt.Errorf("listing event files under %s: %w", dir, err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := file.Scan(p, func(line []byte) error { return fn(append([]byte(nil), line...)) }); err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
	}
	return nil
}

// TellDestinations tells every configured destination that takes forget
// notices (sinks.Forgetter) about a forget the store carried out, and
// records each answer in r.Told. A destination that cannot be told is
// reported, not retried: the store's deletion stands either way.
func TellDestinations(ctx context.Context, cfg config.Config, r *person.Report, log zerolog.Logger) {
	n := sinks.ForgetNotice{App: r.App, RequestID: r.RequestID, At: time.Now().UTC()}
	for _, id := range r.IDs {
		if v, ok := strings.CutPrefix(id, "visitor:"); ok {
			n.Visitors = append(n.Visitors, v)
		} else if u, ok := strings.CutPrefix(id, "user:"); ok {
			n.Users = append(n.Users, u)
		}
	}
	for _, d := range cfg.Destinations {
		dest, err := sinks.NewDestination(d.Type, sinks.Destination{Name: d.Name, Settings: d.Settings, Log: log})
		if err != nil {
			continue
		}
		f, ok := dest.(sinks.Forgetter)
		if !ok {
			continue
		}
		if r.Told == nil {
			r.Told = map[string]string{}
		}
		err = dest.Open(ctx)
		if err == nil {
			err = f.Forget(ctx, n)
		}
		_ = dest.Close()
		r.Told[d.Name] = "ok"
		if err != nil {
			r.Told[d.Name] = err.Error()
			log.Warn().Err(err).Str("destination", d.Name).Str("request_id", r.RequestID).Msg("a destination was not told of a forget")
		}
	}
}

package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/plan"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// ReplayedBucket is the key-value bucket of the failed events a replay
// sent on (key: event id), so that a second replay sends none of them
// again.
const ReplayedBucket = "spoor_failed_replayed"

// FailedReplay is what spoor failed replay did.
type FailedReplay struct {
	Read         int            // the app's failed events in the window
	Sent         int            // passed the plan in force and sent on
	Already      int            // sent by an earlier replay
	StillBlocked int            // the plan in force blocks them still
	Other        map[string]int // not refused by a plan (nothing to check again), by reason
	PlanVersion  string         // the plan they were checked against ("": none, all pass)
}

// ReplayFailed checks app's failed events received since, those its plan
// blocked, against the app's plan in force now (plans.dir), and sends each
// that passes down the normal path: to its partition of the event stream,
// with its own event id (the store and the destinations are idempotent by
// it, and JetStream drops a repeat inside its dedup window), then marks it
// sent in ReplayedBucket, so that it goes once. dry: only count.
func ReplayFailed(ctx context.Context, b *bus.Bus, cfg config.Config, app string, since time.Time, dry bool, log zerolog.Logger) (FailedReplay, error) {
	rep := FailedReplay{Other: map[string]int{}}
	plans, err := plan.Open(cfg.Plans.Dir)
	if err != nil {
		return rep, fmt.Errorf("reading the plans: %w", err)
	}
	p := plans.For(app)
	if p != nil {
		rep.PlanVersion = p.Version
	}
	sent, err := b.KeyValue(ctx, ReplayedBucket)
	if err != nil {
		return rep, err
	}
	var pending []bus.Pending
	var marks []string
	flush := func() error {
		for i, pd := range pending {
			if err := pd.Wait(ctx); err != nil {
				return fmt.Errorf("sending event %s: %w", marks[i], err)
			}
			if _, err := sent.Put(ctx, marks[i], []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
				return fmt.Errorf("marking event %s sent: %w", marks[i], err)
			}
		}
		pending, marks = pending[:0], marks[:0]
		return nil
	}
	each := func(f *schema.Failed) error {
		rep.Read++
		if f.Reason != "plan_violation" || len(f.Event) == 0 {
			rep.Other[f.Reason]++
			return nil
		}
		if _, err := sent.Get(ctx, f.EventID); err == nil {
			rep.Already++
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("reading whether %s was sent: %w", f.EventID, err)
		}
		e, err := schema.Decode(f.Event)
		if err != nil {
			rep.Other["undecodable_event"]++
			return nil
		}
		if p != nil && p.Check(e).Mode == plan.Block {
			rep.StillBlocked++
			return nil
		}
		rep.Sent++
		if dry {
			return nil
		}
		data, err := e.Encode()
		if err != nil {
			return err
		}
		pd, err := b.Publish(bus.Partition(e.PartitionKey(), b.Partitions()), e.EventID, data)
		if err != nil {
			return err
		}
		pending, marks = append(pending, pd), append(marks, e.EventID)
		if len(pending) >= 500 {
			return flush()
		}
		return nil
	}
	until := time.Now().Add(time.Minute)
	if cfg.SinkType() == "cassandra" {
		session, err := cassandraSession(cfg, log)
		if err != nil {
			return rep, err
		}
		defer session.Close()
		err = cassandra.ReadFailed(ctx, session, cfg.Cassandra.Keyspace, app, since, until, each)
		if err != nil {
			return rep, err
		}
	} else {
		all, err := file.ReadFailed(file.PathsOf(cfg.File.Dir).Failed)
		if err != nil {
			return rep, fmt.Errorf("reading the failed events: %w", err)
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].ReceivedAt.Before(all[j].ReceivedAt) })
		for _, f := range all {
			if f.App != app || f.ReceivedAt.Before(since) {
				continue
			}
			if err := each(f); err != nil {
				return rep, err
			}
		}
	}
	return rep, flush()
}

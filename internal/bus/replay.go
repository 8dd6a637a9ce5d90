package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ReadSince calls fn with every message the partitions received since
// start, partition after partition, each in its order, up to the last
// message each held when ReadSince began, then returns (a destination's
// backfill). fn's error stops it.
func (b *Bus) ReadSince(ctx context.Context, start time.Time, fn func(data []byte) error) error {
	for part := range b.Partitions() {
		name := b.StreamName(part)
		s, err := b.js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("opening stream %s: %w", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return fmt.Errorf("reading stream %s info: %w", name, err)
		}
		last := info.State.LastSeq
		if info.State.Msgs == 0 || !info.State.LastTime.After(start) {
			continue
		}
		// An ephemeral consumer of our own (R1, in memory, no acks) read
		// with our own pull requests: an ordered consumer's fetch was seen
		// failing with "no responders" on every try while the cluster was
		// busy, and a failed fetch here is retried instead.
		c, err := b.js.CreateConsumer(ctx, name, jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy,
			OptStartTime: &start, AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: 30 * time.Second,
			MemoryStorage: true, Replicas: 1})
		if err != nil {
			return fmt.Errorf("reading stream %s: %w", name, err)
		}
		pc := b.partConsumer(c, name)
		fails := 0
		for done := false; !done; {
			msgs, err := pc.fetch(500, 0, 5*time.Second, "a reader")
			if err != nil {
				if fails++; fails > 10 || ctx.Err() != nil {
					return fmt.Errorf("reading stream %s: %w", name, err)
				}
				sleepCtx(ctx, time.Second)
				continue
			}
			fails = 0
			n := 0
			for _, m := range msgs {
				n++
				seq := m.StreamSeq()
				if seq > last {
					done = true
					break
				}
				if err := fn(m.Data()); err != nil {
					return err
				}
				if seq == last {
					done = true
					break
				}
			}
			if n == 0 {
				break // nothing after start up to last
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

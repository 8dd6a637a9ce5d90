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
		c, err := b.js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start, InactiveThreshold: 30 * time.Second})
		if err != nil {
			return fmt.Errorf("reading stream %s: %w", name, err)
		}
		for done := false; !done; {
			batch, err := c.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				return fmt.Errorf("reading stream %s: %w", name, err)
			}
			n := 0
			for m := range batch.Messages() {
				n++
				md, err := m.Metadata()
				if err != nil {
					return fmt.Errorf("reading stream %s: %w", name, err)
				}
				if md.Sequence.Stream > last {
					done = true
					break
				}
				if err := fn(m.Data()); err != nil {
					return err
				}
				if md.Sequence.Stream == last {
					done = true
					break
				}
			}
			if err := batch.Error(); err != nil && n == 0 && ctx.Err() == nil {
				return fmt.Errorf("reading stream %s: %w", name, err)
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

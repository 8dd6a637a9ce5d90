package bus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Tail follows every event stream with ordered consumers: ephemeral,
// acking nothing, invisible to the sinks' durable consumer. It starts at
// the newest message, or at since ago when since > 0, and calls fn with
// each message's data (one or more event lines), never concurrently,
// until ctx ends. ready, when not nil, is called once every partition's
// consumer is in place: a message published after it is delivered. Messages are what JetStream acknowledged to a
// collector: the events the pipeline holds, before any store has them.
func (b *Bus) Tail(ctx context.Context, since time.Duration, fn func(data []byte), ready func()) error {
	var mu sync.Mutex
	var stops []jetstream.ConsumeContext
	defer func() {
		for _, s := range stops {
			s.Stop()
		}
	}()
	for part := range b.Partitions() {
		cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy, InactiveThreshold: 30 * time.Second}
		if since > 0 {
			start := time.Now().Add(-since)
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
		}
		c, err := b.js.OrderedConsumer(ctx, b.StreamName(part), cfg)
		if err != nil {
			return fmt.Errorf("following stream %s: %w", b.StreamName(part), err)
		}
		cc, err := c.Consume(func(m jetstream.Msg) {
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() == nil {
				fn(m.Data())
			}
		})
		if err != nil {
			return fmt.Errorf("following stream %s: %w", b.StreamName(part), err)
		}
		stops = append(stops, cc)
	}
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	return nil
}

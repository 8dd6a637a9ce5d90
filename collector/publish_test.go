package collector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/bus"
)

// stalledBus refuses every publish after a stall, as nats.go does when its
// window of unconfirmed publishes is full (the link went silent).
type stalledBus struct{ calls int }

func (s *stalledBus) Publish(int, string, []byte) (bus.Pending, error) {
	s.calls++
	time.Sleep(50 * time.Millisecond)
	return bus.Pending{}, errors.New("nats: stalled with too many outstanding async published messages")
}
func (*stalledBus) Connected() bool { return true }

// A group's publish stops at the first refusal and once its deadline has
// passed, so its answer never waits many stalls past collector.ack_timeout:
// the messages not sent go to the spool.
func TestPublishStopsAtRefusalAndDeadline(t *testing.T) {
	msgs := records(1, 100)
	sb := &stalledBus{}
	c := &Collector{pub: sb}
	start := time.Now()
	rest := c.publish(context.Background(), msgs)
	if len(rest) != len(msgs) || sb.calls != 1 {
		t.Fatalf("%d messages left for the spool after %d publishes, want all %d after 1", len(rest), sb.calls, len(msgs))
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Fatalf("publishing a refused group took %v", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sb.calls = 0
	if rest := c.publish(ctx, msgs); len(rest) != len(msgs) || sb.calls != 0 {
		t.Fatalf("past its deadline: %d publishes, %d messages left, want 0 and %d", sb.calls, len(rest), len(msgs))
	}
}

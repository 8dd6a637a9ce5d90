package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
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

// slowBus confirms every publish after lag, as JetStream does when its
// PubAck takes that long, and counts the publishes waiting at once.
type slowBus struct {
	lag                      time.Duration
	mu                       sync.Mutex
	waiting, mostWait, total int
	ids                      map[string]bool // the dedup ids published
}

type lateAck struct {
	ok  chan *jetstream.PubAck
	err chan error
}

func (a lateAck) Ok() <-chan *jetstream.PubAck { return a.ok }
func (a lateAck) Err() <-chan error            { return a.err }
func (lateAck) Msg() *nats.Msg                 { return nil }

func (s *slowBus) Publish(_ int, id string, _ []byte) (bus.Pending, error) {
	s.mu.Lock()
	s.total++
	if id != "" {
		if s.ids == nil {
			s.ids = map[string]bool{}
		}
		s.ids[id] = true
	}
	s.waiting++
	s.mostWait = max(s.mostWait, s.waiting)
	s.mu.Unlock()
	a := lateAck{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	time.AfterFunc(s.lag, func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		a.ok <- &jetstream.PubAck{}
	})
	return bus.PendingOf(a), nil
}
func (*slowBus) Connected() bool { return true }

// Requests with client ids keep messages of their own (their dedup id), but
// not a publish slot each: the ones that arrive while four groups wait for
// their PubAcks join one group and are published together. Behind four
// slots of a request each, 32 such requests took 8 PubAck round trips (at
// 3,000 single events/s on a busy R3 stream that capped a collector below
// its rate); grouped, they take two. Requests without ids share a message
// per group.
func TestClientIDRequestsAreGroupedNotQueued(t *testing.T) {
	const lag = 100 * time.Millisecond
	for _, tt := range []struct {
		name     string
		shared   bool
		mostWait int // publishes waiting for their PubAck at once, at most
	}{
		{"client ids: a message each, grouped", false, 32},
		{"ids assigned here: four shared groups at a time", true, groupsInFlight},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb := &slowBus{lag: lag}
			reg := prometheus.NewRegistry()
			c, err := New(Options{MaxBatchEvents: 500, MaxEventBytes: 64 << 10, HashKey: []byte("k"), AckTimeout: 5 * time.Second,
				MaxInflightBytes: 1 << 20, RetryAfterSec: 5}, sb, &offline{}, reg, reg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := time.Now()
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := records(1, 10)[:1:1]
					r[0].ID = fmt.Sprintf("e-%d", i)
					if err := c.accept(context.Background(), r, tt.shared); err != nil {
						t.Errorf("request %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			took := time.Since(start)
			if sb.mostWait > tt.mostWait {
				t.Fatalf("%d publishes waited at once, want at most %d", sb.mostWait, tt.mostWait)
			}
			if !tt.shared && (sb.mostWait < 16 || took > 3*lag) {
				t.Fatalf("32 requests with client ids took %v with %d publishes at once; behind slots they queue for %v", took, sb.mostWait, 8*lag)
			}
			if !tt.shared && (sb.total != 32 || len(sb.ids) != 32) {
				t.Fatalf("32 requests with client ids made %d publishes with %d dedup ids, want a message and an id each", sb.total, len(sb.ids))
			}
			if tt.shared && sb.total >= 32 {
				t.Fatalf("32 requests without client ids made %d publishes, want fewer: they share messages", sb.total)
			}
		})
	}
}

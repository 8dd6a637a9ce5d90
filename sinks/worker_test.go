package sinks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
)

// waitingSource reports pending messages and records when it was first
// fetched from.
type waitingSource struct {
	pending int
	err     error
	first   chan time.Time
}

func (s *waitingSource) AckPending(context.Context) (int, error) { return s.pending, s.err }

func (s *waitingSource) Fetch(int, time.Duration) ([]*bus.Msg, error) {
	select {
	case s.first <- time.Now():
	default:
	}
	time.Sleep(10 * time.Millisecond)
	return nil, nil
}

// A destination restarted while messages delivered to the process before
// it are unsettled fetches only after ack_wait (their redelivery comes
// first, so each visitor's order holds); with none pending, or for a store
// (no order to keep), it fetches at once.
func TestWorkerWaitsForEarlierDeliveries(t *testing.T) {
	const ackWait = 400 * time.Millisecond
	cases := []struct {
		name     string
		src      *waitingSource
		delivery *DeliveryOptions
		waits    bool
	}{
		{"destination with messages pending", &waitingSource{pending: 3}, &DeliveryOptions{Destination: "d"}, true},
		{"destination that cannot tell", &waitingSource{err: errors.New("no responders")}, &DeliveryOptions{Destination: "d"}, true},
		{"destination with none pending", &waitingSource{}, &DeliveryOptions{Destination: "d"}, false},
		{"store with messages pending", &waitingSource{pending: 3}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.src.first = make(chan time.Time, 1)
			w := NewWorker(nil, c.src, nil, WorkerOptions{BatchSize: 1, BatchWait: time.Millisecond, AckWait: ackWait, Delivery: c.delivery},
				prometheus.NewRegistry(), zerolog.Nop())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			go func() { _ = w.Run(ctx) }()
			first := (<-c.src.first).Sub(start)
			if c.waits && first < ackWait {
				t.Fatalf("fetched after %v, before ack_wait (%v) passed", first, ackWait)
			}
			if !c.waits && first >= ackWait {
				t.Fatalf("fetched only after %v: nothing to wait for", first)
			}
		})
	}
}

// Package deliverytest is the contract every destination passes (webhook,
// Kafka, GA4, Parquet…), beside sinks/sinktest's for stores: at-least-once
// with each event's id as its idempotency key, a visitor's later events
// never delivered after an earlier one failed, failures classified so the
// worker can retry or dead-letter with the answer.
package deliverytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// Failure is how the receiver refuses an event.
type Failure int

const (
	Transient Failure = iota + 1 // down, overloaded, timing out: a retry may succeed
	Refuse                       // the receiver will never take it
)

// Receiver is the real far end of a destination under test (an HTTP
// receiver, a Kafka broker, a bucket), which the test can make fail.
type Receiver interface {
	// Received lists the idempotency keys of the events it took, in the
	// order it took them, duplicates included, with each event's visitor.
	Received(t *testing.T) []Delivered
	// FailOn makes every delivery that carries the event with this id
	// fail the given way, until Heal.
	FailOn(id string, f Failure)
	// Heal ends every failure.
	Heal()
}

// Delivered is one event as the receiver saw it.
type Delivered struct{ Key, Visitor string }

// Harness connects the suite to one destination type.
type Harness struct {
	// New returns an unopened destination and its receiver, fresh for the
	// test.
	New func(t *testing.T) (sinks.Sink, Receiver)
	// Refusable: the receiver can refuse one event (FailOn(id, Refuse)).
	// Some can only fail whole (a broker is up or down).
	Refusable bool
}

// Run runs the contract.
func Run(t *testing.T, h Harness) {
	t.Run("DeliversEveryEventOnceKeyedByItsID", func(t *testing.T) { delivers(t, h) })
	t.Run("RedeliveryKeepsTheKey", func(t *testing.T) { redelivery(t, h) })
	t.Run("TransientFailureIsRetriedNotLost", func(t *testing.T) { transient(t, h) })
	t.Run("AVisitorsLaterEventsWaitBehindAFailedOne", func(t *testing.T) { order(t, h) })
	if h.Refusable {
		t.Run("RefusalIsPermanentWithTheAnswer", func(t *testing.T) { refusal(t, h) })
	}
	t.Run("EmptyBatch", func(t *testing.T) { empty(t, h) })
}

func open(t *testing.T, h Harness) (sinks.Sink, Receiver) {
	t.Helper()
	s, r := h.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, r
}

func write(t *testing.T, s sinks.Sink, evs []*schema.Event) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return s.Write(ctx, evs)
}

// events are n events of each visitor, a visitor's in order.
func events(visitors []string, n int) []*schema.Event {
	base := time.Now().UTC().Truncate(time.Millisecond)
	var out []*schema.Event
	for i := 0; i < n; i++ {
		for _, v := range visitors {
			out = append(out, &schema.Event{EventID: schema.NewEventID(), ReceivedAt: base.Add(time.Duration(len(out)) * time.Millisecond),
				Endpoint: "tr", App: "shop", VisitorID: v, EventName: fmt.Sprintf("step_%02d", i), EventType: "track"})
		}
	}
	return out
}

func keys(evs []*schema.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventID
	}
	return out
}

// distinct is the received keys once each, in first-arrival order.
func distinct(ds []Delivered) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range ds {
		if !seen[d.Key] {
			seen[d.Key] = true
			out = append(out, d.Key)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// inOrder reports whether each visitor's keys arrived in the order sent.
func inOrder(t *testing.T, sent []*schema.Event, got []Delivered) {
	t.Helper()
	pos := map[string]int{}
	for i, k := range distinct(got) {
		pos[k] = i
	}
	last := map[string]int{}
	for _, e := range sent {
		p, ok := pos[e.EventID]
		if !ok {
			continue
		}
		if q, seen := last[e.VisitorID]; seen && p < q {
			t.Fatalf("visitor %s's events arrived out of order", e.VisitorID)
		}
		last[e.VisitorID] = p
	}
}

func delivers(t *testing.T, h Harness) {
	s, r := open(t, h)
	evs := events([]string{"va", "vb", "vc"}, 40)
	if err := write(t, s, evs); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got := r.Received(t)
	if !sameSet(distinct(got), keys(evs)) {
		t.Fatalf("received %d distinct keys, want the %d event ids", len(distinct(got)), len(evs))
	}
	if len(got) != len(evs) {
		t.Fatalf("received %d deliveries of %d events without any failure", len(got), len(evs))
	}
	inOrder(t, evs, got)
}

func redelivery(t *testing.T, h Harness) {
	s, r := open(t, h)
	evs := events([]string{"va"}, 5)
	for range 2 { // the worker redelivers what it could not settle
		if err := write(t, s, evs); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if got := distinct(r.Received(t)); !sameSet(got, keys(evs)) {
		t.Fatalf("a redelivery changed the keys: %d distinct, want %d", len(got), len(evs))
	}
}

func transient(t *testing.T, h Harness) {
	s, r := open(t, h)
	evs := events([]string{"va", "vb"}, 3)
	r.FailOn(evs[0].EventID, Transient)
	err := write(t, s, evs)
	if err == nil {
		t.Fatal("Write succeeded while the receiver failed")
	}
	for i := range evs {
		if e := errorAt(err, i); e != nil && errors.Is(e, sinks.ErrPermanent) {
			t.Fatalf("event %d: a transient failure reported permanent: %v", i, e)
		}
	}
	if e := errorAt(err, 0); e == nil {
		t.Fatal("the failed event reported delivered")
	}
	r.Heal()
	if err := write(t, s, evs); err != nil {
		t.Fatalf("Write after healing: %v", err)
	}
	if got := distinct(r.Received(t)); !sameSet(got, keys(evs)) {
		t.Fatalf("after healing %d of %d events arrived", len(got), len(evs))
	}
}

func order(t *testing.T, h Harness) {
	s, r := open(t, h)
	evs := events([]string{"va", "vb"}, 5) // va0 vb0 va1 vb1 …
	failed := evs[2]                       // va's second
	r.FailOn(failed.EventID, Transient)
	err := write(t, s, evs)
	if errorAt(err, 2) == nil {
		t.Fatal("the failing event reported delivered")
	}
	got := map[string]bool{}
	for _, d := range r.Received(t) {
		got[d.Key] = true
	}
	for i, e := range evs {
		if e.VisitorID == "va" && i > 2 {
			if got[e.EventID] {
				t.Fatalf("va's event %d was delivered after its earlier event failed", i)
			}
			if errorAt(err, i) == nil {
				t.Fatalf("va's event %d reported delivered, but it must wait behind the failed one", i)
			}
		}
	}
	r.Heal()
	if err := write(t, s, evs); err != nil {
		t.Fatalf("Write after healing: %v", err)
	}
	inOrder(t, evs, r.Received(t))
}

func refusal(t *testing.T, h Harness) {
	s, r := open(t, h)
	evs := events([]string{"va", "vb"}, 4)
	r.FailOn(evs[3].EventID, Refuse)
	err := write(t, s, evs)
	e := errorAt(err, 3)
	var de *sinks.DeliveryError
	if !errors.Is(e, sinks.ErrPermanent) || !errors.As(e, &de) || de.Error() == "" {
		t.Fatalf("a refused event: %v, want a permanent *sinks.DeliveryError with the answer", e)
	}
	for i := range evs {
		if i != 3 && errorAt(err, i) != nil {
			t.Fatalf("event %d failed with the refused one: %v", i, errorAt(err, i))
		}
	}
	want := append(keys(evs[:3]), keys(evs[4:])...)
	if got := distinct(r.Received(t)); !sameSet(got, want) {
		t.Fatalf("%d events arrived, want the %d not refused", len(got), len(want))
	}
}

func empty(t *testing.T, h Harness) {
	s, r := open(t, h)
	if err := write(t, s, nil); err != nil {
		t.Fatalf("Write(nil): %v", err)
	}
	if got := r.Received(t); len(got) != 0 {
		t.Fatalf("an empty batch delivered %d events", len(got))
	}
}

// errorAt is the error a Write result gives event i.
func errorAt(err error, i int) error {
	var be *sinks.BatchError
	if errors.As(err, &be) {
		if i < len(be.Errs) {
			return be.Errs[i]
		}
		return nil
	}
	return err
}

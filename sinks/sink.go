// Package sinks moves events from JetStream into a store. A Worker pulls
// batches from the durable consumer, hands them to a Sink under a rate
// limit, and gives every message exactly one verdict (see Decide).
package sinks

import (
	"context"
	"errors"
	"fmt"

	"github.com/spoor-dev/spoor/schema"
)

// Sink stores batches of events. Every implementation passes the contract
// suite in sinks/sinktest.
//
// A Sink must be idempotent on Event.EventID: writing an event that is
// already stored (a redelivery) must not create a second copy.
type Sink interface {
	// Open connects to the store and recovers anything a crash left
	// behind. The Worker calls it once, before the first Write.
	Open(ctx context.Context) error

	// Write stores events durably. nil means every event is stored. A
	// *BatchError reports failures per event by index; any other error
	// applies to the whole batch. Errors that wrap ErrPermanent will never
	// succeed (the message is dead-lettered); all others are transient
	// (the message is redelivered later). Write is never called
	// concurrently with itself.
	Write(ctx context.Context, events []*schema.Event) error

	// Close flushes and releases the store. Called once, after the last
	// Write has returned.
	Close() error
}

// RawSink is implemented by sinks that store each event's canonical bytes
// (Event.Raw) as they are and read no field but EventID and ReceivedAt. The
// worker then validates and hands over events without decoding them fully
// (schema.DecodeHead).
type RawSink interface {
	Sink
	StoresRaw()
}

// ErrPermanent marks a failure that no retry can fix (a poison event).
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err as permanent.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// BatchError reports per-event results of a partly failed Write: Errs has
// one entry per event, nil where the event was stored.
type BatchError struct{ Errs []error }

func (e *BatchError) Error() string {
	n, first := 0, error(nil)
	for _, err := range e.Errs {
		if err != nil {
			n++
			if first == nil {
				first = err
			}
		}
	}
	return fmt.Sprintf("%d of %d events failed, first: %v", n, len(e.Errs), first)
}

// errorFor returns the error that applies to event i of a Write result.
func errorFor(err error, i int) error {
	var be *BatchError
	if errors.As(err, &be) {
		if i < len(be.Errs) {
			return be.Errs[i]
		}
		return nil
	}
	return err
}

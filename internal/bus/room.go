package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// MakeRoom keeps the event streams able to take events. A stream keeps
// what it holds for nats.max_age, as history (spoor replay, a destination
// added later), and at nats.max_bytes refuses new events rather than drop
// one (the collectors spool, then answer 503): so a stream that once filled
// would refuse every event until its oldest aged out, days later, though
// every consumer had long settled them. Once a stream holds more than high
// (a share of its max_bytes), MakeRoom purges, oldest first, the events
// every durable consumer of it has acknowledged: room comes out of history,
// never out of events still to be delivered. A stream without a durable
// consumer keeps everything. It returns the messages purged.
func (b *Bus) MakeRoom(ctx context.Context, high float64) (uint64, error) {
	var purged uint64
	for p := range b.Partitions() {
		name := b.StreamName(p)
		s, err := b.js.Stream(ctx, name)
		if err != nil {
			return purged, fmt.Errorf("opening stream %s: %w", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return purged, fmt.Errorf("reading stream %s info: %w", name, err)
		}
		limit := info.Config.MaxBytes
		if limit <= 0 || float64(info.State.Bytes) < high*float64(limit) {
			continue
		}
		floor, err := ackFloor(ctx, s)
		if err != nil {
			return purged, fmt.Errorf("reading stream %s consumers: %w", name, err)
		}
		if floor < info.State.FirstSeq {
			continue // nothing every consumer settled is left
		}
		if err := s.Purge(ctx, jetstream.WithPurgeSequence(floor+1)); err != nil {
			return purged, fmt.Errorf("purging stream %s below %d: %w", name, floor+1, err)
		}
		purged += floor + 1 - info.State.FirstSeq
	}
	return purged, nil
}

// ackFloor is the lowest sequence up to which every durable consumer of s
// acknowledged everything; 0 when s has none.
func ackFloor(ctx context.Context, s jetstream.Stream) (uint64, error) {
	var floor uint64
	found := false
	l := s.ListConsumers(ctx)
	for ci := range l.Info() {
		if ci.Config.Durable == "" {
			continue // an ephemeral reader (a live tail) holds nothing back
		}
		if !found || ci.AckFloor.Stream < floor {
			floor, found = ci.AckFloor.Stream, true
		}
	}
	if err := l.Err(); err != nil {
		return 0, err
	}
	return floor, nil
}

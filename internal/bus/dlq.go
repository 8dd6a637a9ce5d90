package bus

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// DeadLetter is one entry of the dead-letter stream.
type DeadLetter struct {
	Seq      uint64 // its sequence in the dead-letter stream
	Reason   string // why the sink refused it
	Consumer string // the durable consumer that refused it: the store's, or a destination's
	Stream   string // the partition stream it came from
	DeadAt   string // when (RFC 3339)
	Data     []byte // the event's canonical bytes, as the collector wrote them
}

// DeadLetterEntries reads up to max dead letters, oldest first.
func (b *Bus) DeadLetterEntries(ctx context.Context, max int) ([]DeadLetter, error) {
	s, err := b.js.Stream(ctx, b.opts.DLQStream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", b.opts.DLQStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s info: %w", b.opts.DLQStream, err)
	}
	var out []DeadLetter
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && len(out) < max && info.State.Msgs > 0; seq++ {
		raw, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted (replayed)
		}
		out = append(out, DeadLetter{Seq: seq, Reason: raw.Header.Get("Spoor-Reason"), Stream: raw.Header.Get("Spoor-Stream"),
			Consumer: raw.Header.Get("Spoor-Consumer"), DeadAt: raw.Header.Get("Spoor-Dead-At"), Data: raw.Data})
	}
	return out, nil
}

// RemoveDeadLetter deletes one entry of the dead-letter stream (delivered
// by another way: a destination's replay).
func (b *Bus) RemoveDeadLetter(ctx context.Context, seq uint64) error {
	s, err := b.js.Stream(ctx, b.opts.DLQStream)
	if err != nil {
		return fmt.Errorf("opening stream %s: %w", b.opts.DLQStream, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil && !strings.Contains(err.Error(), "not found") {
		return fmt.Errorf("removing dead letter %d: %w", seq, err)
	}
	return nil
}

// ReplayDeadLetter publishes a dead letter's event back to partition part
// of the event streams, waits until JetStream holds it, and only then
// deletes it from the dead-letter stream. Run twice, it stores nothing
// twice: the publish carries a dedup id of its own, and the sinks are
// idempotent on the event.
func (b *Bus) ReplayDeadLetter(ctx context.Context, d DeadLetter, part int) error {
	p, err := b.Publish(part, "dlq-replay-"+strconv.FormatUint(d.Seq, 10), d.Data)
	if err != nil {
		return fmt.Errorf("replaying dead letter %d: %w", d.Seq, err)
	}
	if err := p.Wait(ctx); err != nil {
		return fmt.Errorf("replaying dead letter %d: %w", d.Seq, err)
	}
	s, err := b.js.Stream(ctx, b.opts.DLQStream)
	if err != nil {
		return fmt.Errorf("opening stream %s: %w", b.opts.DLQStream, err)
	}
	if err := s.DeleteMsg(ctx, d.Seq); err != nil && !strings.Contains(err.Error(), "not found") {
		return fmt.Errorf("removing replayed dead letter %d: %w", d.Seq, err)
	}
	return nil
}

package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
)

// Publisher hands encoded events to the bus.
type Publisher interface {
	// Publish starts publishing data under msgID; the bus drops a repeated
	// msgID inside its dedup window. It fails at once when the bus is
	// unreachable. The returned Pending reports when the bus holds data.
	// data must not be modified afterwards.
	Publish(msgID string, data []byte) (bus.Pending, error)
	// Connected reports whether the bus is reachable now.
	Connected() bool
}

// Spool is the durable local fallback (see collector/spool).
type Spool interface {
	// Append returns nil only once every record is on disk (fsynced);
	// spool.ErrFull when they do not fit.
	Append(recs []spool.Record) error
	Full() bool
}

// errUnavailable means the events are neither on the bus nor on disk.
var errUnavailable = errors.New("events could not be stored")

// accept makes one request's events durable: packed into bus messages
// (pack), on JetStream (PubAck within the ack deadline) or, for whatever
// did not make it, in the disk spool. It returns nil only when every event
// is held by one of the two; only then may the client be answered 2xx. It
// never waits on a store.
func (c *Collector) accept(ctx context.Context, evs []spool.Record) error {
	start := time.Now()
	msgs := pack(evs)
	rest := msgs
	if c.pub.Connected() {
		rest = c.publish(ctx, msgs)
		held := len(evs) - countEvents(rest)
		c.m.Published.WithLabelValues("direct").Add(float64(held))
		c.m.Acked.WithLabelValues("bus").Add(float64(held))
		if len(rest) == 0 {
			c.m.AckWait.WithLabelValues("bus").Observe(time.Since(start).Seconds())
			return nil
		}
	}
	if err := c.spool.Append(rest); err != nil {
		if errors.Is(err, spool.ErrFull) {
			return err
		}
		c.log.Error().Err(err).Int("messages", len(rest)).Msg("spool append failed")
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	n := float64(countEvents(rest))
	c.m.AckWait.WithLabelValues("spool").Observe(time.Since(start).Seconds())
	c.m.Spooled.Add(n)
	c.m.Acked.WithLabelValues("spool").Add(n)
	return nil
}

// publish sends every message and waits for the PubAcks until the ack
// deadline. It returns the messages JetStream did not confirm.
func (c *Collector) publish(ctx context.Context, evs []spool.Record) []spool.Record {
	pend := make([]bus.Pending, len(evs))
	ok := make([]bool, len(evs))
	for i, ev := range evs {
		p, err := c.pub.Publish(ev.ID, ev.Data)
		if err != nil {
			continue
		}
		pend[i], ok[i] = p, true
	}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.AckTimeout)
	defer cancel()
	var rest []spool.Record
	for i := range evs {
		if ok[i] {
			if err := pend[i].Wait(wctx); err == nil {
				continue
			}
		}
		rest = append(rest, evs[i])
	}
	return rest
}

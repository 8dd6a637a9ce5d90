package collector

import (
	"context"
	"errors"
	"time"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
)

// Publisher hands encoded events to the bus.
type Publisher interface {
	// Publish starts publishing data to partition part under msgID; the
	// bus drops a repeated msgID inside its dedup window (an empty msgID is
	// never deduplicated). It fails at once when the bus is
	// unreachable. The returned Pending reports when the bus holds data.
	// data must not be modified afterwards.
	Publish(part int, msgID string, data []byte) (bus.Pending, error)
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

// accept makes one request's events durable: split by bus partition
// (byPartition), packed into bus messages (pack), gathered with concurrent
// requests into a group per partition (grouper) when
// shared is true, and held by JetStream (PubAck within the ack deadline) or, failing that, by
// the disk spool. It returns nil only when every event is held by one of
// the two; only then may the client be answered 2xx. It never waits on a
// store.
//
// shared must be false when the client chose any of the event ids: such a
// request keeps messages of its own, so a retry of it is dropped by
// JetStream's dedup on Nats-Msg-Id (the event id, or the hash of a batch's
// ids). Events with ids assigned here cannot be retried under the same id,
// so sharing a message costs them nothing.
func (c *Collector) accept(ctx context.Context, evs []spool.Record, shared bool) error {
	if skipDurability {
		return nil
	}
	if c.cfg.Ack == AckLocal {
		err := c.acceptLocal(evs, shared)
		if err == nil {
			return nil
		}
		if fallback, err := c.localFailed(err); !fallback {
			return err
		}
	}
	start := time.Now()
	parts := byPartition(evs)
	if len(parts) == 1 {
		grp, leader := c.groups.join(pack(evs), shared)
		if leader {
			c.commit(ctx, grp)
		} else {
			<-grp.done
		}
		return c.accepted(grp, len(evs), start)
	}
	// Events of several partitions (a server's batch for many visitors):
	// one group per partition, made durable concurrently.
	grps := make([]*group, len(parts))
	for i, p := range parts {
		grp, leader := c.groups.join(pack(p), shared)
		grps[i] = grp
		if leader {
			go c.commit(ctx, grp)
		}
	}
	var err error
	for i, grp := range grps {
		<-grp.done
		if e := c.accepted(grp, len(parts[i]), start); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// accepted reports a group's outcome for n events of one request.
func (c *Collector) accepted(grp *group, n int, start time.Time) error {
	if grp.err != nil {
		return grp.err
	}
	if grp.part == bus.FailedPart { // failed events are counted by reason, not as events answered
		return nil
	}
	vm := c.m.via(grp.via)
	vm.acked.Add(float64(n))
	vm.wait.Observe(time.Since(start).Seconds())
	return nil
}

// commit makes grp durable, then wakes its members. Within the ack deadline
// it publishes the group once it has a slot of its kind and waits for the
// PubAcks; whatever JetStream did not confirm by then goes to the spool.
func (c *Collector) commit(ctx context.Context, grp *group) {
	defer close(grp.done)
	deadline, cancel := context.WithTimeout(ctx, c.cfg.AckTimeout)
	defer cancel()
	var rest []spool.Record
	if !c.pub.Connected() {
		c.groups.seal(grp)
		rest = grp.messages()
	} else if grp.part < 0 {
		// A group that takes no other members (the failed stream's) is
		// published at once.
		rest = c.publish(deadline, grp.recs)
		c.m.Published.WithLabelValues("direct").Add(float64(grp.events - countEvents(rest)))
	} else {
		_, slots := c.groups.kind(grp.shared)
		select {
		case slots <- struct{}{}:
			c.groups.seal(grp)
			msgs := grp.messages()
			rest = c.publish(deadline, msgs)
			<-slots
			c.m.Published.WithLabelValues("direct").Add(float64(grp.events - countEvents(rest)))
		case <-deadline.Done():
			c.groups.seal(grp)
			rest = grp.messages()
		}
	}
	if len(rest) == 0 {
		grp.via = "bus"
		return
	}
	if err := c.spool.Append(rest); err != nil {
		if errors.Is(err, spool.ErrFull) {
			grp.err = err
			return
		}
		c.log.Error().Err(err).Int("messages", len(rest)).Msg("spool append failed")
		grp.err = errUnavailable // the cause is logged; the client hears only that it may retry
		return
	}
	grp.via = "spool"
	c.m.Spooled.Add(float64(countEvents(rest)))
}

// publish sends every message and waits for the PubAcks until ctx ends.
// It returns the messages JetStream did not confirm. It stops sending at
// the first refusal or once ctx has ended: a refused publish (the client's
// window of unconfirmed publishes is full, each try stalling a little) says
// the bus is not confirming, and a group of many messages would otherwise
// spend far past the ack deadline stalling one by one (a link gone silent
// before the client noticed); what was not sent goes to the spool.
func (c *Collector) publish(ctx context.Context, evs []spool.Record) []spool.Record {
	pend := make([]bus.Pending, len(evs))
	ok := make([]bool, len(evs))
	for i, ev := range evs {
		if ctx.Err() != nil {
			break
		}
		p, err := c.pub.Publish(ev.Part, ev.ID, ev.Data)
		if err != nil {
			break
		}
		pend[i], ok[i] = p, true
	}
	var rest []spool.Record
	for i := range evs {
		if ok[i] {
			if err := pend[i].Wait(ctx); err == nil {
				continue
			}
		}
		rest = append(rest, evs[i])
	}
	return rest
}

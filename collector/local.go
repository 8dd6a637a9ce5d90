package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
)

// Ack values (collector.ack; decision 0006).
const (
	// AckReplicated answers once JetStream holds the events (its PubAck),
	// or the spool does when JetStream cannot.
	AckReplicated = "replicated"
	// AckLocal answers once the spool holds the events (fsynced); the
	// forwarder (Replayer) moves them to JetStream behind the answer.
	AckLocal = "local"
)

// acceptLocal is collector.ack: local. The request's events are packed
// into bus messages and appended to the spool, whose writer makes every
// append that arrived meanwhile durable with one write and one fsync
// (group commit); then the request is answered. The forwarder moves them
// to JetStream in large messages (forwardMessages).
//
// Messages of a request with client event ids keep their dedup id (the
// event id, or the batch's), so a client's retry is still dropped by
// JetStream's dedup; the others are spooled without one, which lets the
// forwarder join them with their neighbours.
//
// It returns spool.ErrFull when the spool cannot take them; accept then
// tries the replicated path.
func (c *Collector) acceptLocal(evs []spool.Record, shared bool) error {
	start := time.Now()
	var recs []spool.Record
	parts := byPartition(evs)
	for _, p := range parts {
		for _, r := range pack(p) {
			if shared {
				r.ID = ""
			}
			recs = append(recs, r)
		}
	}
	if err := c.spool.Append(recs); err != nil {
		return err
	}
	n := 0
	for _, p := range parts {
		if p[0].Part != bus.FailedPart { // failed events are counted by reason, not as events answered
			n += len(p)
		}
	}
	if n > 0 {
		vm := c.m.via(AckLocal)
		vm.acked.Add(float64(n))
		vm.wait.Observe(time.Since(start).Seconds())
	}
	return nil
}

// localFailed says what to do when acceptLocal failed: fall back to the
// replicated ack while JetStream is reachable (a full spool, or a failing
// disk, must not refuse what JetStream can hold), else the error to answer.
func (c *Collector) localFailed(err error) (fallback bool, _ error) {
	if c.pub.Connected() {
		return true, nil
	}
	if errors.Is(err, spool.ErrFull) {
		return false, err
	}
	c.log.Error().Err(err).Msg("spool append failed")
	return false, errUnavailable // the cause is logged; the client hears only that it may retry
}

// forwardMessages turns spooled records (in spool order, each with its
// partition) into what the forwarder publishes. Records without a dedup id
// (their event ids were all assigned here) are joined with their
// neighbours of the same partition into messages of up to maxMsgBytes and
// maxGroupEvents events: JetStream's cost is per message. Each joined
// message gets a dedup id derived from its bytes, so republishing the same
// segment (a crash between JetStream's ack and the segment's removal)
// inside nats.dedup_window stores nothing twice; the bytes hold the events'
// own ids and received_at, so two different messages never share it.
// Records with a client's dedup id and the failed stream's stay messages of
// their own, in order; a failed one without an id gets one of its bytes
// (a failed event holds its receipt time and place in the request).
func forwardMessages(recs []spool.Record) []spool.Record {
	type open struct {
		at     int // index in out
		recs   []spool.Record
		bytes  int
		events int
	}
	var out []spool.Record
	opens := map[int]*open{}
	flush := func(o *open) {
		if len(o.recs) == 1 {
			out[o.at] = o.recs[0]
			out[o.at].ID = joinedID(o.recs[0].Data)
			return
		}
		data := make([]byte, 0, o.bytes)
		for i, r := range o.recs {
			if i > 0 {
				data = append(data, '\n')
			}
			data = append(data, r.Data...)
		}
		out[o.at] = spool.Record{ID: joinedID(data), Data: data, Part: o.recs[0].Part}
	}
	for _, r := range recs {
		if r.ID != "" || r.Part < 0 {
			if o := opens[r.Part]; o != nil { // keep the partition's order
				flush(o)
				delete(opens, r.Part)
			}
			if r.ID == "" { // a failed event is forwarded alone, and twice is dropped as once
				r.ID = joinedID(r.Data)
			}
			out = append(out, r)
			continue
		}
		size, n := len(r.Data)+1, eventCount(r)
		o := opens[r.Part]
		if o != nil && (o.bytes+size > maxMsgBytes || o.events+n > maxGroupEvents) {
			flush(o)
			o = nil
		}
		if o == nil {
			o = &open{at: len(out)}
			opens[r.Part] = o
			out = append(out, spool.Record{})
		}
		o.recs = append(o.recs, r)
		o.bytes += size
		o.events += n
	}
	for _, o := range opens {
		flush(o)
	}
	return out
}

// joinedID is a forwarded message's dedup id: "f-" and 128 bits of the
// SHA-256 of its bytes.
func joinedID(data []byte) string {
	sum := sha256.Sum256(data)
	return "f-" + hex.EncodeToString(sum[:16])
}

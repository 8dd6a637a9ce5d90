package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/spoor-dev/spoor/collector/spool"
)

// maxGroupEvents bounds the events of concurrent requests that share one
// bus message, so one poison event never makes a sink redo more than this.
const maxGroupEvents = 256

// group is the unit of durability: the packed messages of one or more
// concurrent requests, made durable together (one PubAck or one spool
// append) and answered together.
type group struct {
	recs   []spool.Record
	bytes  int
	events int
	done   chan struct{} // closed once via and err are set
	via    string        // "bus" or "spool"
	err    error
}

// grouper gathers the requests that arrive while earlier groups are still
// waiting for their PubAck. Under light load every request is its own
// group and goes out at once; under heavy load requests share a message,
// which costs JetStream one store and one ack instead of dozens.
type grouper struct {
	mu    sync.Mutex
	open  *group        // accepting members; its leader waits for a slot
	slots chan struct{} // one token per group being made durable
}

func newGrouper(inflight int) *grouper {
	return &grouper{slots: make(chan struct{}, inflight)}
}

// join adds a request's packed messages to the open group, or opens a new
// one when they do not fit; a request that may not share (shared false)
// gets a group of its own. leader is true for the request that opened the
// group: it must make the group durable (Collector.commit).
func (g *grouper) join(recs []spool.Record, shared bool) (grp *group, leader bool) {
	size, n := 0, 0
	for _, r := range recs {
		size += len(r.Data) + 1
		n += eventCount(r)
	}
	if !shared {
		return &group{recs: recs, bytes: size, events: n, done: make(chan struct{})}, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if o := g.open; o != nil && o.bytes+size <= maxMsgBytes && o.events+n <= maxGroupEvents {
		o.recs = append(o.recs, recs...)
		o.bytes += size
		o.events += n
		return o, false
	}
	grp = &group{recs: recs, bytes: size, events: n, done: make(chan struct{})}
	g.open = grp
	return grp, true
}

// seal stops grp from taking new members.
func (g *grouper) seal(grp *group) {
	g.mu.Lock()
	if g.open == grp {
		g.open = nil
	}
	g.mu.Unlock()
}

// messages is what grp publishes: its members' messages joined into one
// NDJSON message when there are several (they fit maxMsgBytes by
// construction, unless a single request alone was larger). A lone message
// keeps its id (the event id for a single event); a joined one gets an id
// derived from its members' ids, so the spool replays it under the same id
// and JetStream drops it if the first publish landed after all.
func (grp *group) messages() []spool.Record {
	if len(grp.recs) == 1 || grp.bytes > maxMsgBytes {
		return grp.recs
	}
	data := make([]byte, 0, grp.bytes)
	h := sha256.New()
	for i, r := range grp.recs {
		if i > 0 {
			data = append(data, '\n')
		}
		data = append(data, r.Data...)
		h.Write([]byte(r.ID))
		h.Write([]byte{0})
	}
	return []spool.Record{{ID: "g-" + hex.EncodeToString(h.Sum(nil)[:16]), Data: data}}
}

// groupsInFlight is how many groups wait for their PubAck at once.
const groupsInFlight = 4

package collector

import (
	"sync"

	"github.com/spoor-dev/spoor/collector/spool"
)

// maxGroupEvents bounds the events of concurrent requests that share one
// bus message, so one poison event never makes a sink redo more than this.
const maxGroupEvents = 256

// group is the unit of durability: the packed messages of one or more
// concurrent requests, made durable together (published together and
// acknowledged, or one spool append) and answered together.
type group struct {
	recs   []spool.Record
	bytes  int
	events int
	part   int           // the bus partition of every member
	shared bool          // every event id was assigned here: joined into one message, no dedup id needed
	done   chan struct{} // closed once via and err are set
	via    string        // "bus" or "spool"
	err    error
}

// grouper gathers the requests that arrive while earlier groups are still
// waiting for their PubAck. Under light load every request is its own
// group and goes out at once; under heavy load requests share a group:
// requests whose ids were assigned here share one message, which costs
// JetStream one store and one ack instead of dozens; requests with client
// ids keep a message each (their dedup id) but are published together, one
// write of them all and their PubAcks read together, instead of a round of
// wake-ups and system calls per request.
type grouper struct {
	mu     sync.Mutex
	open   []*group      // per partition, the shared group accepting members; its leader waits for a slot
	own    []*group      // per partition, the group of client-id requests accepting members
	slots  chan struct{} // one token per shared group being made durable
	owners chan struct{} // one token per client-id group being made durable
}

func newGrouper(inflight, partitions int) *grouper {
	n := max(partitions, 1)
	return &grouper{slots: make(chan struct{}, inflight), owners: make(chan struct{}, inflight),
		open: make([]*group, n), own: make([]*group, n)}
}

// join adds a request's packed messages (all of one partition) to that
// partition's open group of its kind (shared: whose messages may be joined
// into one), or opens a new one when they do not fit. leader is true for
// the request that opened the group: it must make the group durable
// (Collector.commit).
func (g *grouper) join(recs []spool.Record, shared bool) (grp *group, leader bool) {
	size, n := 0, 0
	for _, r := range recs {
		size += len(r.Data) + 1
		n += eventCount(r)
	}
	part := recs[0].Part
	if part < 0 { // the failed stream's (bus.FailedPart) are few: never grouped
		return &group{recs: recs, bytes: size, events: n, part: part, done: make(chan struct{})}, true
	}
	open, _ := g.kind(shared)
	g.mu.Lock()
	defer g.mu.Unlock()
	if o := open[part]; o != nil && o.bytes+size <= maxMsgBytes && o.events+n <= maxGroupEvents {
		o.recs = append(o.recs, recs...)
		o.bytes += size
		o.events += n
		return o, false
	}
	grp = &group{recs: recs, bytes: size, events: n, part: part, shared: shared, done: make(chan struct{})}
	open[part] = grp
	return grp, true
}

// kind is the open groups (per partition) and the slots of the groups of
// one kind: shared, or with client ids.
func (g *grouper) kind(shared bool) (open []*group, slots chan struct{}) {
	if shared {
		return g.open, g.slots
	}
	return g.own, g.owners
}

// seal stops grp from taking new members.
func (g *grouper) seal(grp *group) {
	if grp.part < 0 {
		return
	}
	open, _ := g.kind(grp.shared)
	g.mu.Lock()
	if open[grp.part] == grp {
		open[grp.part] = nil
	}
	g.mu.Unlock()
}

// messages is what grp publishes: its members' messages joined into one
// NDJSON message when there are several (they fit maxMsgBytes by
// construction, unless a single request alone was larger).
//
// Dedup ids: a request with client ids keeps its message and its id (the
// event id, or its batch's), so JetStream drops the client's retry. A shared
// group (only ids assigned here) gets none: nobody can resend its events
// under the same ids except this collector's spool replay after a PubAck
// that came too late, and that copy holds the same bytes (same event_id and
// received_at), which every sink stores idempotently.
func (grp *group) messages() []spool.Record {
	if !grp.shared || grp.bytes > maxMsgBytes {
		return grp.recs
	}
	if len(grp.recs) == 1 {
		return []spool.Record{{Data: grp.recs[0].Data, Part: grp.part}}
	}
	data := make([]byte, 0, grp.bytes)
	for i, r := range grp.recs {
		if i > 0 {
			data = append(data, '\n')
		}
		data = append(data, r.Data...)
	}
	return []spool.Record{{Data: data, Part: grp.part}}
}

// groupsInFlight is how many groups of each kind (shared, client ids) wait
// for their PubAcks at once: while they wait, the requests arriving
// meanwhile join the next group of their kind.
const groupsInFlight = 4

package cassandra

import (
	"sync"
	"time"
)

// latest remembers, per marker shard, each visitor's latest session as
// this sink last wrote it, so extend need not read it back. Only the
// holder of a shard's lease writes its visitors' sessions, so what it
// wrote stays true while it holds the lease: a shard's entries are dropped
// whenever its lease is taken afresh or lost. sessionize leaves what it
// read (tail.readAt, from, to), so that markers of events it has already
// counted are recognised as such instead of sending the visitor back to it. Each shard keeps at most
// perShard entries; when full it starts again empty (a miss costs one read).
type latest struct {
	perShard int
	shards   [pendingShards]struct {
		sync.Mutex
		m map[[2]string]tail
	}
}

func newLatest(entries int) *latest {
	return &latest{perShard: max(entries/pendingShards, 0)}
}

func (l *latest) get(shard int16, app, visitor string) (tail, bool) {
	if l == nil || l.perShard == 0 {
		return tail{}, false
	}
	sh := &l.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	ss, ok := sh.m[[2]string{app, visitor}]
	return ss, ok
}

func (l *latest) put(shard int16, app, visitor string, ss tail) {
	if l == nil || l.perShard == 0 {
		return
	}
	sh := &l.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	if sh.m == nil || len(sh.m) >= l.perShard {
		sh.m = make(map[[2]string]tail, min(l.perShard, 1024))
	}
	sh.m[[2]string{app, visitor}] = ss
}

func (l *latest) forget(shard int16, app, visitor string) {
	if l == nil {
		return
	}
	sh := &l.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	delete(sh.m, [2]string{app, visitor})
}

func (l *latest) drop(shard int16) {
	if l == nil {
		return
	}
	sh := &l.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	sh.m = nil
}

// tail is what extend needs of a visitor's latest session, and what the
// last recomputation from its events (sessionize) read. Sessions end at
// midnight UTC, so the latest session of its day is what counts for
// events of that day; all says that no later day has one either, so an
// event of a later day starts a new session without a read.
type tail struct {
	known      bool // start..uid hold the latest session of its day; else it is read
	all        bool // and the visitor's latest of all
	start, end time.Time
	count      int
	uid        string
	// empty: a read found no session of this day (fillLatest), so a
	// batch of it starts one.
	empty time.Time
	// Every event stored before readAt with a time in [from, to] was
	// read by sessionize and counted in the sessions it wrote.
	readAt, from, to time.Time
}

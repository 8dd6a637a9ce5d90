package cassandra

import (
	"sync"
	"time"
)

// firstTouches remembers, for the visitors this sink wrote lately, the
// earliest first touch it wrote: a later event's first-touch update would
// lose to it (firstTouchTimestamp) and need not be sent. At most about
// firstTouchEntries visitors are remembered; a full shard starts again
// empty (a miss costs one update, as before).
type firstTouches struct {
	shards [16]struct {
		sync.Mutex
		m map[[2]string]time.Time
	}
}

const firstTouchEntries = 1 << 16

func (f *firstTouches) shard(app, visitor string) int {
	return int(visitorHash(app, visitor) % uint32(len(f.shards)))
}

// covers reports whether a first touch before t is stored already (one
// at t itself may tie, and a tie is Cassandra's to break, by value).
func (f *firstTouches) covers(app, visitor string, t time.Time) bool {
	sh := &f.shards[f.shard(app, visitor)]
	sh.Lock()
	defer sh.Unlock()
	at, ok := sh.m[[2]string{app, visitor}]
	return ok && at.Before(t)
}

// stored records a first touch at t as written.
func (f *firstTouches) stored(app, visitor string, t time.Time) {
	sh := &f.shards[f.shard(app, visitor)]
	sh.Lock()
	defer sh.Unlock()
	if sh.m == nil || len(sh.m) >= firstTouchEntries/len(f.shards) {
		sh.m = make(map[[2]string]time.Time, 256)
	}
	k := [2]string{app, visitor}
	if at, ok := sh.m[k]; !ok || t.Before(at) {
		sh.m[k] = t
	}
}

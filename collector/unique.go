package collector

import (
	"hash/maphash"
	"sync"
	"time"
)

// firstSeen answers the unique flag of clicks and opens: is this the first
// of its visitor (or address hash) on this link within the window? Keys
// are kept as 64-bit hashes (a collision makes one click look like a
// repeat, once in billions) in two generations: clicks go into cur, and
// every window cur becomes prev and prev is dropped whole, so nothing ever
// scans the table and a lookup needs at most the last two windows. A flood
// rotates early at maxSeen/2 keys: memory stays bounded (about 40 MB at
// most), at the price of a shorter memory under the flood. The maps grow
// with use, not at start. Per collector process: behind a load balancer,
// the same visitor's repeat reaching another collector counts as unique
// there.
type firstSeen struct {
	window int64 // nanoseconds
	seed   maphash.Seed
	mu     sync.Mutex
	cur    map[uint64]int64 // key → unix nanoseconds of the first click
	prev   map[uint64]int64
	since  int64 // when cur began
}

const maxSeen = 1 << 20

func newFirstSeen(window time.Duration) *firstSeen {
	if window <= 0 {
		window = time.Hour
	}
	return &firstSeen{window: int64(window), seed: maphash.MakeSeed(), cur: map[uint64]int64{}, prev: map[uint64]int64{}}
}

// first reports whether who's click on link at now is the first within
// the window, and remembers it if so.
func (f *firstSeen) first(link, who string, now time.Time) bool {
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(link)
	h.WriteByte(0)
	h.WriteString(who)
	key, t := h.Sum64(), now.UnixNano()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.since == 0 {
		f.since = t
	}
	if t-f.since >= f.window || len(f.cur) >= maxSeen/2 {
		f.prev, f.cur, f.since = f.cur, make(map[uint64]int64, len(f.cur)/2), t
	}
	if at, ok := f.cur[key]; ok && t-at < f.window {
		return false
	}
	if at, ok := f.prev[key]; ok && t-at < f.window {
		return false
	}
	f.cur[key] = t
	return true
}

package collector

import (
	"hash/maphash"
	"sync"
	"time"
)

// firstSeen answers the unique flag of clicks and opens: is this the first
// of its visitor (or address hash) on this link within the window? Keys
// are kept as 64-bit hashes (a collision makes one click look like a
// repeat, once in billions), at most maxSeen of them; the map grows with
// use, not at start. Per collector process: behind a load balancer, the
// same visitor's repeat reaching another collector counts as unique there.
type firstSeen struct {
	window time.Duration
	seed   maphash.Seed
	mu     sync.Mutex
	at     map[uint64]int64 // unix nanoseconds of the first click in the window
}

const maxSeen = 1 << 20

func newFirstSeen(window time.Duration) *firstSeen {
	if window <= 0 {
		window = time.Hour
	}
	return &firstSeen{window: window, seed: maphash.MakeSeed(), at: map[uint64]int64{}}
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
	if prev, ok := f.at[key]; ok && t-prev < int64(f.window) {
		return false
	}
	if len(f.at) >= maxSeen {
		f.prune(t)
	}
	f.at[key] = t
	return true
}

// prune drops the entries past the window, and if that is not enough, any
// tenth (the map is full of clicks younger than the window: a flood).
func (f *firstSeen) prune(now int64) {
	for k, t := range f.at {
		if now-t >= int64(f.window) {
			delete(f.at, k)
		}
	}
	drop := maxSeen / 10
	for k := range f.at {
		if len(f.at) < maxSeen-drop {
			break
		}
		delete(f.at, k)
	}
}

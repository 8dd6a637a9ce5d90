package memlimit

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Trimmer hands memory back to the operating system once the process has
// gone quiet after working, instead of leaving it resident until the next
// burst: Go's own scavenger returns free heap slowly (it spends about 1%
// of a CPU on it), so after a load the resident size would take minutes to
// fall, and a quiet process allocates too little to trigger a collection
// that would free the load's garbage in the first place.
type Trimmer struct {
	// Every is how often the process is looked at.
	Every time.Duration
	// Quiet: fewer bytes allocated than this since the last look means
	// nothing is working (no requests, no sink batch, no replay).
	Quiet uint64
	// Again is how long a quiet process waits before trimming once more
	// (0: once per quiet spell).
	Again time.Duration
	// Trimmed, when set, is told each time memory was handed back, with
	// the bytes released.
	Trimmed func(released uint64)
}

// Run looks every Every until ctx ends. A trim is a collection (pooled
// objects go to sync.Pool's victim cache) and debug.FreeOSMemory (a
// second one, which drops them, then returns every free page). It runs at
// the first quiet look after work, never under load; while the process
// stays quiet it runs again every Again, then, each time it found little
// to hand back, twice as seldom (caches that expire on their own, such as
// the embedded JetStream's block buffers, are freed well after the load).
func (t Trimmer) Run(ctx context.Context) {
	tick := time.NewTicker(t.Every)
	defer tick.Stop()
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	last := s[0].Value.Uint64()
	worked, wait, quietFor := false, t.Again, time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(s)
		allocs := s[0].Value.Uint64()
		busy := allocs-last >= t.Quiet
		last = allocs
		switch {
		case busy:
			worked, quietFor = true, 0
			continue
		case worked:
			worked, wait, quietFor = false, t.Again, 0
		default:
			if quietFor += t.Every; wait == 0 || quietFor < wait {
				continue
			}
			quietFor = 0
		}
		before := s[1].Value.Uint64()
		runtime.GC()
		debug.FreeOSMemory()
		metrics.Read(s)
		last = s[0].Value.Uint64()
		freed := s[1].Value.Uint64() - min(before, s[1].Value.Uint64())
		if freed < t.Quiet && wait < 8*t.Again {
			wait *= 2 // little came back: look less often
		}
		if t.Trimmed != nil {
			t.Trimmed(freed)
		}
	}
}

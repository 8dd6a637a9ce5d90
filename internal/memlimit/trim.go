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
	// Trimmed, when set, is told each time memory was handed back, with
	// the bytes released.
	Trimmed func(released uint64)
}

// Run looks every Every until ctx ends. A trim is a collection (pooled
// objects go to sync.Pool's victim cache) and debug.FreeOSMemory (a
// second one, which drops them, then returns every free page): it runs
// once per quiet spell that follows work, never under load.
func (t Trimmer) Run(ctx context.Context) {
	tick := time.NewTicker(t.Every)
	defer tick.Stop()
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	last, worked := s[0].Value.Uint64(), false
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
		if busy {
			worked = true
			continue
		}
		if !worked {
			continue
		}
		before := s[1].Value.Uint64()
		runtime.GC()
		debug.FreeOSMemory()
		metrics.Read(s)
		last, worked = s[0].Value.Uint64(), false
		if t.Trimmed != nil {
			t.Trimmed(s[1].Value.Uint64() - min(before, s[1].Value.Uint64()))
		}
	}
}

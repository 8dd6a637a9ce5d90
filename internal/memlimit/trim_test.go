package memlimit

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

var burst [][]byte // the test goroutine's allocations, kept alive until dropped

func released() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// After a burst of garbage, a quiet process hands its free heap back; a
// busy one is left alone.
func TestTrimmerHandsBackWhenQuiet(t *testing.T) {
	var trims atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := Trimmer{Every: 50 * time.Millisecond, Quiet: 1 << 20, Trimmed: func(uint64) { trims.Add(1) }}
	// Busy: allocating 4 MiB per 10 ms, far above Quiet per tick.
	busy, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for busy.Err() == nil {
			b := make([]byte, 4<<20)
			b[len(b)-1] = 1
			runtime.KeepAlive(b)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	go tr.Run(ctx)
	time.Sleep(300 * time.Millisecond)
	if n := trims.Load(); n > 1 { // at most once: the test's own start may look quiet
		t.Fatalf("trimmed %d times while busy", n)
	}
	stop()
	<-stopped
	// A burst, then quiet.
	for i := 0; i < 64; i++ {
		burst = append(burst, make([]byte, 1<<20))
	}
	before, already := released(), trims.Load()
	burst = nil
	deadline := time.Now().Add(5 * time.Second)
	for trims.Load() == already && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if trims.Load() == already {
		t.Fatal("never trimmed after going quiet")
	}
	if after := released(); after < before+32<<20 {
		t.Fatalf("released %d MiB → %d MiB: the burst's 64 MiB was not handed back", before>>20, after>>20)
	}
	n := trims.Load()
	time.Sleep(300 * time.Millisecond)
	if trims.Load() != n {
		t.Fatal("trimmed again in the same quiet spell")
	}
}

// A quiet process is trimmed again later (caches freed after the load are
// handed back too), less and less often while little comes back.
func TestTrimmerAgainWhileQuiet(t *testing.T) {
	var trims atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := Trimmer{Every: 10 * time.Millisecond, Quiet: 1 << 20, Again: 50 * time.Millisecond, Trimmed: func(uint64) { trims.Add(1) }}
	burst = append(burst, make([]byte, 8<<20)) // work before the trimmer starts looking
	go tr.Run(ctx)
	time.Sleep(5 * time.Millisecond)
	burst = append(burst, make([]byte, 8<<20))
	burst = nil
	time.Sleep(1200 * time.Millisecond)
	// After the first trim: again at 50, 100, 200, 400, 400… ms apart.
	if n := trims.Load(); n < 3 || n > 6 {
		t.Fatalf("%d trims in 1.2 s of quiet, want 3 to 6 (backing off)", n)
	}
}

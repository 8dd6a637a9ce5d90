package app

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/internal/memlimit"
)

// DefaultMemoryLimit is the Go soft memory limit without a container
// limit or memory_limit: the default queues' budgets (docs/config.md,
// "Memory") with room, under the 512 MB a spoor process is sized for.
const DefaultMemoryLimit = 384 << 20

// cgroupShare of a container's limit goes to Go's soft limit; the rest is
// for what Go does not count (the kernel's buffers for the process, the
// page cache of the files it writes, charged to the same cgroup).
const cgroupShare = 0.8

// SetMemoryLimit sets the Go runtime's soft memory limit, the heap size at
// which the garbage collector runs whatever GOGC says, and returns it with
// where it came from: the GOMEMLIMIT environment variable (the operator's,
// kept), memory_limit, 80% of the container's (cgroup) limit, or
// DefaultMemoryLimit.
func SetMemoryLimit(cfg config.Config) (int64, string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	limit, from := MemoryLimit(cfg, "/sys/fs/cgroup", "/proc/self/cgroup")
	debug.SetMemoryLimit(limit)
	return limit, from
}

// MemoryLimit is the limit SetMemoryLimit applies without GOMEMLIMIT, read
// from the cgroup tree at root and the process's cgroup file proc.
func MemoryLimit(cfg config.Config, root, proc string) (int64, string) {
	if cfg.MemoryLimit > 0 {
		return cfg.MemoryLimit, "memory_limit"
	}
	if c, err := memlimit.Cgroup(root, proc); err == nil && c > 0 {
		return int64(float64(c) * cgroupShare), "cgroup"
	}
	return DefaultMemoryLimit, "default"
}

// trimMemory hands memory back to the OS whenever the process goes quiet
// after work (memlimit.Trimmer), counted in spoor_memory_released_bytes_total.
func (a *App) trimMemory(ctx context.Context) {
	released := prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_memory_released_bytes_total",
		Help: "Heap memory handed back to the OS after the process went quiet (a trim after a burst)."})
	a.Reg.MustRegister(released)
	t := memlimit.Trimmer{Every: 2 * time.Second, Quiet: 4 << 20, Again: 10 * time.Second, Trimmed: func(n uint64) { released.Add(float64(n)) }}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t.Run(ctx)
	}()
}

// codeReleased: the executable's start-up pages are handed back once per
// process, however many times it starts an App (the tests do, often).
var codeReleased sync.Once

// releaseCode hands back, once start-up is over, the executable's pages
// that only start-up touched (memlimit.ReleaseCode).
func (a *App) releaseCode(ctx context.Context) {
	done := true
	codeReleased.Do(func() { done = false })
	if done {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second): // the roles' own start-up work is done
		}
		n, err := memlimit.ReleaseCode()
		if err != nil {
			a.log.Warn().Err(err).Msg("handing back start-up code pages")
			return
		}
		a.log.Debug().Str("released", fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))).Msg("handed back start-up code pages")
	}()
}

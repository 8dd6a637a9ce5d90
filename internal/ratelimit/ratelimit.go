// Package ratelimit limits requests per client address, for the collector
// and the proxy alike (http.rate_limit_per_ip).
package ratelimit

import (
	"hash/fnv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PerIP is a token bucket per client IP (http.rate_limit_per_ip),
// sharded to keep lock contention off the hot path. Buckets idle for
// longer than idleAfter are dropped by a sweep.
type PerIP struct {
	rate   rate.Limit
	burst  int
	shards [64]ipShard
}

type ipShard struct {
	mu sync.Mutex
	m  map[string]*ipBucket
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleAfter = 5 * time.Minute

func NewPerIP(perSecond float64, burst int) *PerIP {
	l := &PerIP{rate: rate.Limit(perSecond), burst: burst}
	for i := range l.shards {
		l.shards[i].m = map[string]*ipBucket{}
	}
	return l
}

// Allow takes one token for ip.
func (l *PerIP) Allow(ip string, now time.Time) bool {
	h := fnv.New32a()
	h.Write([]byte(ip))
	sh := &l.shards[h.Sum32()%uint32(len(l.shards))]
	sh.mu.Lock()
	b := sh.m[ip]
	if b == nil {
		b = &ipBucket{lim: rate.NewLimiter(l.rate, l.burst)}
		sh.m[ip] = b
	}
	b.seen = now
	ok := b.lim.AllowN(now, 1)
	sh.mu.Unlock()
	return ok
}

// Sweep forgets buckets idle since before now-idleAfter.
func (l *PerIP) Sweep(now time.Time) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for ip, b := range sh.m {
			if now.Sub(b.seen) > idleAfter {
				delete(sh.m, ip)
			}
		}
		sh.mu.Unlock()
	}
}

// SweepEvery sweeps every interval until stop closes (run it on its own
// goroutine for as long as the limiter is used).
func (l *PerIP) SweepEvery(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			l.Sweep(now)
		}
	}
}

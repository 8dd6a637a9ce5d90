package ratelimit

import (
	"testing"
	"time"
)

func TestIPLimiter(t *testing.T) {
	l := NewPerIP(1, 2)
	now := time.Now()
	got := []bool{l.Allow("a", now), l.Allow("a", now), l.Allow("a", now), l.Allow("b", now)}
	if got[0] != true || got[1] != true || got[2] != false || got[3] != true {
		t.Fatalf("allow = %v, want burst of 2 per IP", got)
	}
	if !l.Allow("a", now.Add(1100*time.Millisecond)) {
		t.Fatal("a token must come back after a second")
	}
	l.Sweep(now.Add(idleAfter + 2*time.Second))
	n := 0
	for i := range l.shards {
		n += len(l.shards[i].m)
	}
	if n != 0 {
		t.Fatalf("%d idle buckets left after sweep", n)
	}
}

package collector

import (
	"strconv"
	"testing"
	"time"
)

func TestFirstSeen(t *testing.T) {
	f := newFirstSeen(time.Hour)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		link, who string
		at        time.Duration
		want      bool
	}{
		{"l spring", "v1", 0, true},
		{"l spring", "v1", time.Minute, false},               // a repeat within the hour
		{"l spring", "v2", time.Minute, true},                // another visitor
		{"l autumn", "v1", time.Minute, true},                // another link
		{"l spring", "v1", 59 * time.Minute, false},          // still within the hour (and cur rotates at 60m)
		{"l spring", "v1", 61 * time.Minute, true},           // an hour after the first: unique again
		{"l spring", "v2", 90 * time.Minute, true},           // v2's first was at 1m, in prev, older than the window
		{"l spring", "v1", 100 * time.Minute, false},         // v1's unique click at 61m is in cur
		{"l spring", "v1", 61*time.Minute + time.Hour, true}, // and an hour after that, unique again
	} {
		if got := f.first(step.link, step.who, t0.Add(step.at)); got != step.want {
			t.Errorf("%s by %s at +%v: unique %v, want %v", step.link, step.who, step.at, got, step.want)
		}
	}
}

// A flood of distinct visitors never holds more than maxSeen keys.
func TestFirstSeenBounded(t *testing.T) {
	f := newFirstSeen(time.Hour)
	now := time.Now()
	for i := range maxSeen + 1000 {
		f.first("l x", strconv.Itoa(i), now)
	}
	if n := len(f.cur) + len(f.prev); n > maxSeen {
		t.Errorf("%d keys held, bound %d", n, maxSeen)
	}
}

func BenchmarkFirstSeen(b *testing.B) {
	f := newFirstSeen(time.Hour)
	now := time.Now()
	b.ReportAllocs()
	for i := range b.N {
		f.first("l bench", strconv.Itoa(i%5000000), now)
	}
}

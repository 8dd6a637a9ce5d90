package clock

import (
	"testing"
	"time"
)

func TestOffset(t *testing.T) {
	defer SetOffset(0)
	for _, d := range []time.Duration{0, 10 * time.Minute, -time.Hour} {
		SetOffset(d)
		got := Now().Sub(time.Now())
		if got < d-time.Second || got > d+time.Second {
			t.Fatalf("offset %v: Now is %v from time.Now", d, got)
		}
	}
}

// Package clock is the time the collector stamps on what it receives
// (received_at, a Segment call's now). It is time.Now, shifted by an offset
// that only fault runs set (spoor -clock-offset): a collector whose clock is
// wrong is a fault spoor must survive, and Go's own clock cannot be moved
// from outside the process (faketime's LD_PRELOAD does not reach it: the Go
// runtime reads the vDSO directly).
package clock

import (
	"sync/atomic"
	"time"
)

var offset atomic.Int64

// Now is the process's time: time.Now plus the offset.
func Now() time.Time {
	if o := offset.Load(); o != 0 {
		return time.Now().Add(time.Duration(o))
	}
	return time.Now()
}

// SetOffset shifts Now by d from then on (0: the machine's clock).
func SetOffset(d time.Duration) { offset.Store(int64(d)) }

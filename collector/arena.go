package collector

import "github.com/spoor-dev/spoor/schema"

// arenaChunk caps one allocation of an arena: a batch of large events
// takes several, never one sized by its largest event times its count.
const arenaChunk = 256 << 10

// arena is where one request's events are encoded, one after another: a
// batch's records share a few allocations sized by the events seen so
// far, where each would otherwise take its own kilobyte. Every record's
// Data is a full slice of its own bytes (no room to append into a
// neighbour), and stays valid when the arena moves on to a new chunk.
// The zero arena is ready.
type arena struct {
	buf []byte
	per int // room an event takes: the largest so far and a quarter
}

// encode appends e's encoding and returns it; left is how many events
// the request has still to encode, this one included.
func (a *arena) encode(e *schema.Event, left int) []byte {
	if cap(a.buf)-len(a.buf) < max(a.per, 1024) {
		a.buf = make([]byte, 0, min(max(left*a.per, 1024), arenaChunk))
	}
	start := len(a.buf)
	a.buf = e.AppendJSON(a.buf)
	n := len(a.buf) - start
	a.per = max(a.per, n+n/4)
	return a.buf[start:len(a.buf):len(a.buf)]
}

package collector

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/spoor-dev/spoor/schema"
)

// ipHashes remembers the ip_hash of recently seen client addresses: a
// visitor sends many events from one address, and the HMAC costs more than
// the rest of the request's server fields together. It is a fixed-size,
// lock-free, direct-mapped table; a collision only costs a recomputation.
// The key never changes during the collector's life.
type ipHashes struct {
	key   []byte
	seed  maphash.Seed
	slots [1024]atomic.Pointer[ipHashEntry]
}

type ipHashEntry struct{ ip, hash string }

func newIPHashes(key []byte) *ipHashes {
	return &ipHashes{key: key, seed: maphash.MakeSeed()}
}

// get returns schema.HashIP(key, ip).
func (h *ipHashes) get(ip string) string {
	slot := &h.slots[maphash.String(h.seed, ip)%uint64(len(h.slots))]
	if e := slot.Load(); e != nil && e.ip == ip {
		return e.hash
	}
	sum := schema.HashIP(h.key, ip)
	slot.Store(&ipHashEntry{ip: ip, hash: sum})
	return sum
}

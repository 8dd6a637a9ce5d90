package cassandra

import (
	"slices"
	"sync"
)

// marks remembers the markers this process wrote while it held their
// shard, until the sessionizer takes their slot. A direct write of a
// visitor counts its pending markers too (they follow the session like
// its events) and absorbs them: the sessionizer then passes their rows
// over instead of finding them behind the session and recomputing. A
// full shard starts again empty: a marker forgotten here costs at worst
// one recomputation, as it did before.
type marks struct {
	shards [pendingShards]struct {
		sync.Mutex
		m map[[2]string][]pendingMark
		n int
	}
}

// pendingMark is one marker row as written.
type pendingMark struct {
	slot     int64
	m        marker
	absorbed bool
}

const markEntries = 1 << 16

func (pm pendingMark) same(slot int64, m marker) bool {
	return pm.slot == slot && pm.m.min.Equal(m.min) && pm.m.max.Equal(m.max) && pm.m.firstID == m.firstID && pm.m.lastID == m.lastID
}

// put records a marker written in slot.
func (k *marks) put(shard int16, app, visitor string, slot int64, m marker) {
	sh := &k.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	if sh.m == nil || sh.n >= markEntries/pendingShards {
		sh.m, sh.n = make(map[[2]string][]pendingMark, 256), 0
	}
	key := [2]string{app, visitor}
	sh.m[key] = append(sh.m[key], pendingMark{slot: slot, m: m})
	sh.n++
}

// pending returns the visitor's markers in slots after done (the last slot
// of the shard this process has taken) not absorbed yet, dropping the
// older ones.
func (k *marks) pending(shard int16, app, visitor string, done int64) []pendingMark {
	sh := &k.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	key := [2]string{app, visitor}
	list := slices.DeleteFunc(sh.m[key], func(pm pendingMark) bool { return pm.slot <= done })
	k.store(shard, key, list)
	var out []pendingMark
	for _, pm := range list {
		if !pm.absorbed {
			out = append(out, pm)
		}
	}
	return out
}

// absorb records the markers as counted by a direct write.
func (k *marks) absorb(shard int16, app, visitor string, done []pendingMark) {
	if len(done) == 0 {
		return
	}
	sh := &k.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	list := sh.m[[2]string{app, visitor}]
	for i := range list {
		for _, d := range done {
			if list[i].same(d.slot, d.m) {
				list[i].absorbed = true
			}
		}
	}
}

// settle is the sessionizer taking a visitor's markers of a slot: it
// returns those not absorbed by a direct write and forgets every marker
// of the visitor up to that slot.
func (k *marks) settle(shard int16, app, visitor string, slot int64, ms []marker) []marker {
	sh := &k.shards[shard]
	sh.Lock()
	defer sh.Unlock()
	key := [2]string{app, visitor}
	list := sh.m[key]
	ms = slices.DeleteFunc(ms, func(m marker) bool {
		return slices.ContainsFunc(list, func(pm pendingMark) bool { return pm.absorbed && pm.same(slot, m) })
	})
	k.store(shard, key, slices.DeleteFunc(list, func(pm pendingMark) bool { return pm.slot <= slot }))
	return ms
}

// store keeps a visitor's list (sh locked).
func (k *marks) store(shard int16, key [2]string, list []pendingMark) {
	sh := &k.shards[shard]
	before := len(sh.m[key])
	if len(list) == 0 {
		delete(sh.m, key)
	} else {
		sh.m[key] = list
	}
	sh.n -= before - len(list)
}

package sinks

import (
	"sync"
	"sync/atomic"
	"time"
)

// ForgottenRefresh is how often a sink reloads the forgotten ids (spoor
// forget): a forget waits for two reloads and one write before it
// deletes, so that no event in flight lands after the delete.
const ForgottenRefresh = time.Second

// Forgotten is the set of forgotten people a sink drops events by, loaded
// whole: people who asked to be forgotten are few, and a map lookup per
// event costs the sink's path nothing, where a read per visitor would
// double its load. Each sink loads it from its own store.
type Forgotten struct {
	mu      sync.RWMutex
	ids     map[[3]string]bool // app, kind (visitor or user), id
	loaded  time.Time
	dropped atomic.Int64
}

// Stale reports whether the set is due for a reload.
func (f *Forgotten) Stale(now time.Time) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return now.Sub(f.loaded) >= ForgottenRefresh
}

// Set replaces the ids, loaded at at.
func (f *Forgotten) Set(ids map[[3]string]bool, at time.Time) {
	f.mu.Lock()
	f.ids, f.loaded = ids, at
	f.mu.Unlock()
}

// Checked marks the set fresh without changing it (the source did not
// change).
func (f *Forgotten) Checked(at time.Time) {
	f.mu.Lock()
	f.loaded = at
	f.mu.Unlock()
}

// Empty reports whether nobody is forgotten: the sinks then look at no
// event.
func (f *Forgotten) Empty() bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.ids) == 0
}

// Has reports whether an event with these ids belongs to a forgotten
// person: its visitor or its user.
func (f *Forgotten) Has(app, visitor, user string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return visitor != "" && f.ids[[3]string{app, "visitor", visitor}] || user != "" && f.ids[[3]string{app, "user", user}]
}

// Drop counts n events dropped on arrival.
func (f *Forgotten) Drop(n int) { f.dropped.Add(int64(n)) }

// Dropped is the number of events dropped on arrival so far (the metric
// spoor_sink_forgotten_events_total).
func (f *Forgotten) Dropped() int64 { return f.dropped.Load() }

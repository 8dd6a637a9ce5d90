package links

import (
	"context"
	"errors"
	"sync"
)

// ErrUnavailable: the store is not reachable yet.
var ErrUnavailable = errors.New("link store not available yet")

// Deferred is a Store that a collector can start with while its real
// store is still unreachable (NATS down at start: the collector must come
// up and spool). Until Set, every call fails with ErrUnavailable, and
// watches wait; Set hands them over.
type Deferred struct {
	mu      sync.Mutex
	s       Store
	watches []deferredWatch
}

type deferredWatch struct {
	ctx     context.Context
	changed func(string)
}

// Set makes s the store and starts the watches asked for so far.
func (d *Deferred) Set(s Store) error {
	d.mu.Lock()
	d.s = s
	ws := d.watches
	d.watches = nil
	d.mu.Unlock()
	for _, w := range ws {
		if w.ctx.Err() != nil {
			continue
		}
		if err := s.Watch(w.ctx, w.changed); err != nil {
			return err
		}
	}
	return nil
}

func (d *Deferred) store() (Store, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.s == nil {
		return nil, ErrUnavailable
	}
	return d.s, nil
}

func (d *Deferred) Get(ctx context.Context, slug string) (Link, error) {
	s, err := d.store()
	if err != nil {
		return Link{}, err
	}
	return s.Get(ctx, slug)
}

func (d *Deferred) Create(ctx context.Context, l Link) error {
	s, err := d.store()
	if err != nil {
		return err
	}
	return s.Create(ctx, l)
}

func (d *Deferred) Update(ctx context.Context, l Link) error {
	s, err := d.store()
	if err != nil {
		return err
	}
	return s.Update(ctx, l)
}

func (d *Deferred) List(ctx context.Context, after string, limit int) ([]Link, string, error) {
	s, err := d.store()
	if err != nil {
		return nil, "", err
	}
	return s.List(ctx, after, limit)
}

func (d *Deferred) AddClicks(ctx context.Context, slug string, add Counts) (Counts, error) {
	s, err := d.store()
	if err != nil {
		return Counts{}, err
	}
	return s.AddClicks(ctx, slug, add)
}

func (d *Deferred) Counts(ctx context.Context, slug string) (Counts, error) {
	s, err := d.store()
	if err != nil {
		return Counts{}, err
	}
	return s.Counts(ctx, slug)
}

// Watch starts at once when the store is set, else when it is.
func (d *Deferred) Watch(ctx context.Context, changed func(string)) error {
	d.mu.Lock()
	if d.s == nil {
		d.watches = append(d.watches, deferredWatch{ctx, changed})
		d.mu.Unlock()
		return nil
	}
	s := d.s
	d.mu.Unlock()
	return s.Watch(ctx, changed)
}

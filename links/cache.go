package links

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Cache is one collector's view of the short links. A lookup is answered
// from memory; a miss reads the store once however many clicks wait for
// it, and an unknown slug is remembered too (negative caching), so a flood
// of made-up slugs costs the store one read each per ttl. The store's
// watch evicts a changed link at once; ttl bounds a missed notice. When
// the store cannot be read, a stale entry is still served.
//
// Clicks are counted here and added to the store every second, so a click
// never waits on the store; a link's max_clicks is enforced against the
// store's total plus this collector's unsent clicks, so it can overshoot
// by the clicks other collectors took within that second.
type Cache struct {
	store Store
	ttl   time.Duration
	size  int
	log   zerolog.Logger

	mu      sync.Mutex
	entries map[string]*entry
	loading map[string]*load
	pending map[string]Counts // clicks not yet added to the store
}

type entry struct {
	link   *Link // nil: no such slug
	counts Counts
	at     time.Time
}

type load struct {
	done chan struct{}
	e    *entry
	err  error
}

// NewCache wraps store; Run must be running for invalidation and counts.
func NewCache(store Store, size int, ttl time.Duration, log zerolog.Logger) *Cache {
	return &Cache{store: store, ttl: ttl, size: max(size, 1), log: log,
		entries: map[string]*entry{}, loading: map[string]*load{}, pending: map[string]Counts{}}
}

// Run watches the store and flushes counts every second until ctx ends,
// then flushes once more within a few seconds.
func (c *Cache) Run(ctx context.Context) error {
	if err := c.store.Watch(ctx, c.Invalidate); err != nil {
		return err
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.flush(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			c.flush(fctx)
			cancel()
			return nil
		}
	}
}

// Invalidate forgets slug; the next lookup reads the store.
func (c *Cache) Invalidate(slug string) {
	c.mu.Lock()
	delete(c.entries, slug)
	c.mu.Unlock()
}

// Lookup returns the link (nil when there is none) and its human clicks
// so far, or an error when the store cannot be read and nothing is cached.
func (c *Cache) Lookup(ctx context.Context, slug string) (*Link, int64, error) {
	c.mu.Lock()
	e := c.entries[slug]
	if e != nil && time.Since(e.at) < c.ttl {
		human := e.counts.Human + c.pending[slug].Human
		c.mu.Unlock()
		return e.link, human, nil
	}
	stale := e
	l := c.loading[slug]
	if l == nil {
		l = &load{done: make(chan struct{})}
		c.loading[slug] = l
		c.mu.Unlock()
		l.e, l.err = c.fetch(ctx, slug)
		c.mu.Lock()
		delete(c.loading, slug)
		if l.err == nil {
			c.put(slug, l.e)
		}
		close(l.done)
		c.mu.Unlock()
	} else {
		c.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	e = l.e
	if l.err != nil {
		if stale == nil {
			return nil, 0, l.err
		}
		c.log.Warn().Err(l.err).Str("slug", slug).Msg("link store unavailable; serving the cached link")
		e = stale
	}
	c.mu.Lock()
	human := e.counts.Human + c.pending[slug].Human
	c.mu.Unlock()
	return e.link, human, nil
}

func (c *Cache) fetch(ctx context.Context, slug string) (*entry, error) {
	l, err := c.store.Get(ctx, slug)
	if errors.Is(err, ErrNotFound) {
		return &entry{at: time.Now()}, nil
	}
	if err != nil {
		return nil, err
	}
	e := &entry{link: &l, at: time.Now()}
	if l.MaxClicks > 0 {
		if e.counts, err = c.store.Counts(ctx, slug); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// put stores e, making room first: a full cache drops a tenth of its
// entries, whichever map iteration yields (random enough, and O(1) per
// insert on average).
func (c *Cache) put(slug string, e *entry) {
	if len(c.entries) >= c.size {
		drop := max(c.size/10, 1)
		for k := range c.entries {
			delete(c.entries, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.entries[slug] = e
}

// Click counts one click of slug (human: not flagged as machine traffic).
func (c *Cache) Click(slug string, human bool) {
	c.mu.Lock()
	p := c.pending[slug]
	p.All++
	if human {
		p.Human++
	}
	c.pending[slug] = p
	c.mu.Unlock()
}

// flush adds the pending clicks to the store; what fails stays pending.
func (c *Cache) flush(ctx context.Context) {
	c.mu.Lock()
	batch := c.pending
	c.pending = make(map[string]Counts, len(batch))
	c.mu.Unlock()
	for slug, add := range batch {
		total, err := c.store.AddClicks(ctx, slug, add)
		c.mu.Lock()
		if err != nil {
			p := c.pending[slug]
			p.All, p.Human = p.All+add.All, p.Human+add.Human
			c.pending[slug] = p
		} else if e := c.entries[slug]; e != nil {
			e.counts = total
		}
		c.mu.Unlock()
		if err != nil {
			c.log.Warn().Err(err).Str("slug", slug).Msg("link clicks not counted yet; retrying")
		}
	}
}

// Stats are a link's counts including this collector's unsent clicks.
func (c *Cache) Stats(ctx context.Context, slug string) (Counts, error) {
	total, err := c.store.Counts(ctx, slug)
	if err != nil {
		return total, err
	}
	c.mu.Lock()
	p := c.pending[slug]
	c.mu.Unlock()
	return Counts{All: total.All + p.All, Human: total.Human + p.Human}, nil
}

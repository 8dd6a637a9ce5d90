package links

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// KV keeps links in a JetStream key-value bucket: "l.<slug>" holds the
// link as JSON, "c.<slug>" its counts. The bucket replicates with the NATS
// cluster, and its watch tells every collector of a change at once.
type KV struct{ kv jetstream.KeyValue }

// NewKV uses bucket kv (internal/bus creates it).
func NewKV(kv jetstream.KeyValue) *KV { return &KV{kv: kv} }

func (s *KV) Get(ctx context.Context, slug string) (Link, error) {
	e, err := s.kv.Get(ctx, "l."+slug)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Link{}, ErrNotFound
	}
	if err != nil {
		return Link{}, fmt.Errorf("reading link %s: %w", slug, err)
	}
	var l Link
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return Link{}, fmt.Errorf("decoding link %s: %w", slug, err)
	}
	return l, nil
}

func (s *KV) Create(ctx context.Context, l Link) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, "l."+l.Slug, b); errors.Is(err, jetstream.ErrKeyExists) {
		return ErrExists
	} else if err != nil {
		return fmt.Errorf("creating link %s: %w", l.Slug, err)
	}
	return nil
}

func (s *KV) Update(ctx context.Context, l Link) error {
	e, err := s.kv.Get(ctx, "l."+l.Slug)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("reading link %s: %w", l.Slug, err)
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := s.kv.Update(ctx, "l."+l.Slug, b, e.Revision()); err != nil {
		return fmt.Errorf("updating link %s: %w", l.Slug, err)
	}
	return nil
}

// List reads every key of the bucket and pages in memory (Page).
func (s *KV) List(ctx context.Context, after string, limit int) ([]Link, string, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, "l.>")
	if err != nil {
		return nil, "", fmt.Errorf("listing links: %w", err)
	}
	var slugs []string
	for k := range lister.Keys() {
		if slug := strings.TrimPrefix(k, "l."); slug > after {
			slugs = append(slugs, slug)
		}
	}
	slugs, next := Page(slugs, limit)
	out := make([]Link, 0, len(slugs))
	for _, slug := range slugs {
		l, err := s.Get(ctx, slug)
		if errors.Is(err, ErrNotFound) { // deleted meanwhile
			continue
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, l)
	}
	return out, next, nil
}

// AddClicks is a compare-and-set loop on "c.<slug>": a concurrent add
// from another collector makes this one read again and retry.
func (s *KV) AddClicks(ctx context.Context, slug string, add Counts) (Counts, error) {
	key := "c." + slug
	for {
		var c Counts
		e, err := s.kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			c = add
			b, _ := json.Marshal(c)
			if _, err := s.kv.Create(ctx, key, b); err == nil {
				return c, nil
			} else if !errors.Is(err, jetstream.ErrKeyExists) {
				return Counts{}, fmt.Errorf("counting clicks of %s: %w", slug, err)
			}
		case err != nil:
			return Counts{}, fmt.Errorf("counting clicks of %s: %w", slug, err)
		default:
			if err := json.Unmarshal(e.Value(), &c); err != nil {
				return Counts{}, fmt.Errorf("decoding clicks of %s: %w", slug, err)
			}
			c.All, c.Human = c.All+add.All, c.Human+add.Human
			b, _ := json.Marshal(c)
			if _, err := s.kv.Update(ctx, key, b, e.Revision()); err == nil {
				return c, nil
			}
		}
		if ctx.Err() != nil {
			return Counts{}, fmt.Errorf("counting clicks of %s: %w", slug, ctx.Err())
		}
	}
}

func (s *KV) Counts(ctx context.Context, slug string) (Counts, error) {
	var c Counts
	e, err := s.kv.Get(ctx, "c."+slug)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading clicks of %s: %w", slug, err)
	}
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return c, fmt.Errorf("decoding clicks of %s: %w", slug, err)
	}
	return c, nil
}

func (s *KV) Watch(ctx context.Context, changed func(slug string)) error {
	w, err := s.kv.Watch(ctx, "l.*", jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("watching links: %w", err)
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e != nil {
					changed(strings.TrimPrefix(e.Key(), "l."))
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

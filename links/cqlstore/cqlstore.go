// Package cqlstore keeps short links in Cassandra (links.store:
// cassandra): the tables of migration 007, with change notices on core
// NATS, which Cassandra has no watch for.
package cqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/links"
)

// Notifier carries change notices between collectors (*bus.Bus is one).
type Notifier interface {
	Announce(subject string, data []byte) error
	Listen(ctx context.Context, subject string, fn func(data []byte)) error
}

// Store is a links.Store on Cassandra.
type Store struct {
	s       *gocql.Session
	ks      string
	n       Notifier
	subject string
}

// New uses session's keyspace ks (migrated: `spoor schema apply`) and
// announces changes on subject through n.
func New(session *gocql.Session, ks string, n Notifier, subject string) *Store {
	return &Store{s: session, ks: ks, n: n, subject: subject}
}

func (st *Store) Get(ctx context.Context, slug string) (links.Link, error) {
	var raw string
	err := st.s.Query(fmt.Sprintf("SELECT link FROM %s.links WHERE slug = ?", st.ks), slug).WithContext(ctx).Scan(&raw)
	if errors.Is(err, gocql.ErrNotFound) {
		return links.Link{}, links.ErrNotFound
	}
	if err != nil {
		return links.Link{}, fmt.Errorf("reading link %s: %w", slug, err)
	}
	var l links.Link
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return links.Link{}, fmt.Errorf("decoding link %s: %w", slug, err)
	}
	return l, nil
}

// Create is a lightweight transaction (INSERT … IF NOT EXISTS): of two
// collectors creating one slug, exactly one wins.
func (st *Store) Create(ctx context.Context, l links.Link) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	applied, err := st.s.Query(fmt.Sprintf("INSERT INTO %s.links (slug, link, updated_at) VALUES (?, ?, ?) IF NOT EXISTS", st.ks),
		l.Slug, string(b), l.UpdatedAt).WithContext(ctx).SerialConsistency(gocql.LocalSerial).MapScanCAS(map[string]any{})
	if err != nil {
		return fmt.Errorf("creating link %s: %w", l.Slug, err)
	}
	if !applied {
		return links.ErrExists
	}
	st.announce(l.Slug)
	return nil
}

func (st *Store) Update(ctx context.Context, l links.Link) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	applied, err := st.s.Query(fmt.Sprintf("UPDATE %s.links SET link = ?, updated_at = ? WHERE slug = ? IF EXISTS", st.ks),
		string(b), l.UpdatedAt, l.Slug).WithContext(ctx).SerialConsistency(gocql.LocalSerial).MapScanCAS(map[string]any{})
	if err != nil {
		return fmt.Errorf("updating link %s: %w", l.Slug, err)
	}
	if !applied {
		return links.ErrNotFound
	}
	st.announce(l.Slug)
	return nil
}

// announce tells the other collectors; a lost notice is bounded by their
// cache's ttl.
func (st *Store) announce(slug string) {
	_ = st.n.Announce(st.subject, []byte(slug))
}

// List reads every slug (the table is small next to the events) and pages
// in slug order.
func (st *Store) List(ctx context.Context, after string, limit int) ([]links.Link, string, error) {
	iter := st.s.Query(fmt.Sprintf("SELECT slug FROM %s.links", st.ks)).WithContext(ctx).PageSize(5000).Iter()
	var slugs []string
	var slug string
	for iter.Scan(&slug) {
		if slug > after {
			slugs = append(slugs, slug)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, "", fmt.Errorf("listing links: %w", err)
	}
	slugs, next := links.Page(slugs, limit)
	out := make([]links.Link, 0, len(slugs))
	for _, s := range slugs {
		l, err := st.Get(ctx, s)
		if err != nil {
			return nil, "", err
		}
		out = append(out, l)
	}
	return out, next, nil
}

// AddClicks increments the counters. A counter update is not idempotent,
// so the driver must not retry it on a timeout (it would count twice).
func (st *Store) AddClicks(ctx context.Context, slug string, add links.Counts) (links.Counts, error) {
	err := st.s.Query(fmt.Sprintf("UPDATE %s.link_counts SET clicks = clicks + ?, human = human + ? WHERE slug = ?", st.ks),
		add.All, add.Human, slug).WithContext(ctx).Idempotent(false).Exec()
	if err != nil {
		return links.Counts{}, fmt.Errorf("counting clicks of %s: %w", slug, err)
	}
	return st.Counts(ctx, slug)
}

func (st *Store) Counts(ctx context.Context, slug string) (links.Counts, error) {
	var c links.Counts
	err := st.s.Query(fmt.Sprintf("SELECT clicks, human FROM %s.link_counts WHERE slug = ?", st.ks), slug).WithContext(ctx).Scan(&c.All, &c.Human)
	if errors.Is(err, gocql.ErrNotFound) {
		return links.Counts{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading clicks of %s: %w", slug, err)
	}
	return c, nil
}

func (st *Store) Watch(ctx context.Context, changed func(slug string)) error {
	return st.n.Listen(ctx, st.subject, func(data []byte) { changed(string(data)) })
}

var _ links.Store = (*Store)(nil)

// Package storetest is the contract every links.Store passes: JetStream's
// key-value store and Cassandra run the same Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/links"
)

// Run runs the contract. newStore returns a store on a fresh, empty
// namespace for this test.
func Run(t *testing.T, newStore func(t *testing.T) links.Store) {
	t.Run("RoundTripsEveryField", func(t *testing.T) { roundTrip(t, newStore(t)) })
	t.Run("SlugsAreUnique", func(t *testing.T) { unique(t, newStore(t)) })
	t.Run("ListPages", func(t *testing.T) { list(t, newStore(t)) })
	t.Run("ConcurrentClicksAllCount", func(t *testing.T) { clicks(t, newStore(t)) })
	t.Run("WatchSeesChanges", func(t *testing.T) { watch(t, newStore(t)) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func full(slug string) links.Link {
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	now := time.Now().UTC().Truncate(time.Millisecond)
	return links.Link{Slug: slug, To: "https://shop.example/spring?x=1", Status: 307, ExpiresAt: &exp,
		ExpiredTo: "https://shop.example/over", MaxClicks: 100, IOS: "https://apps.apple.com/app/id1", Android: "https://play.google.com/store/apps/details?id=x",
		ForwardQuery: true, Fields: map[string]string{"campaign": "spring", "app": "mail"}, Disabled: false, CreatedAt: now, UpdatedAt: now}
}

func roundTrip(t *testing.T, s links.Store) {
	want := full("Abc-9_x")
	if err := s.Create(ctx(t), want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), want.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got, want) {
		t.Errorf("read back\n %+v\nwant\n %+v", got, want)
	}
	want.Disabled, want.To, want.UpdatedAt = true, "https://shop.example/other", want.UpdatedAt.Add(time.Second)
	if err := s.Update(ctx(t), want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx(t), want.Slug); !equal(got, want) {
		t.Errorf("after update\n %+v\nwant\n %+v", got, want)
	}
	minimal := links.Link{Slug: "m", To: "https://x.example/", CreatedAt: want.CreatedAt, UpdatedAt: want.CreatedAt}
	if err := s.Create(ctx(t), minimal); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx(t), "m"); !equal(got, minimal) {
		t.Errorf("minimal link read back as %+v", got)
	}
	if _, err := s.Get(ctx(t), "nope"); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("Get of an unknown slug: %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx(t), links.Link{Slug: "nope", To: "https://x.example/"}); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("Update of an unknown slug: %v, want ErrNotFound", err)
	}
}

// equal compares links as stored: times by instant, nil and empty maps alike.
func equal(a, b links.Link) bool {
	norm := func(l links.Link) links.Link {
		if len(l.Fields) == 0 {
			l.Fields = nil
		}
		l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
		if l.ExpiresAt != nil {
			e := l.ExpiresAt.UTC()
			l.ExpiresAt = &e
		}
		return l
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func unique(t *testing.T, s links.Store) {
	l := full("dup")
	if err := s.Create(ctx(t), l); err != nil {
		t.Fatal(err)
	}
	l.To = "https://evil.example/"
	if err := s.Create(ctx(t), l); !errors.Is(err, links.ErrExists) {
		t.Errorf("second Create of a slug: %v, want ErrExists", err)
	}
	l.Disabled = true
	if got, _ := s.Get(ctx(t), "dup"); got.To != "https://shop.example/spring?x=1" {
		t.Errorf("the refused create changed the link: %+v", got)
	}
	// Concurrent creates of one slug: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := full("race")
			l.To = fmt.Sprintf("https://shop.example/%d", i)
			if err := s.Create(ctx(t), l); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !errors.Is(err, links.ErrExists) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d concurrent creates of one slug succeeded, want 1", won)
	}
}

func list(t *testing.T, s links.Store) {
	var want []string
	for i := range 25 {
		slug := fmt.Sprintf("s%02d", i)
		want = append(want, slug)
		if err := s.Create(ctx(t), full(slug)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after, pages := "", 0
	for {
		page, next, err := s.List(ctx(t), after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page) > 10 {
			t.Fatalf("page of %d, limit 10", len(page))
		}
		for _, l := range page {
			got = append(got, l.Slug)
		}
		if next == "" || pages > 5 {
			break
		}
		after = next
	}
	if !reflect.DeepEqual(got, want) || pages != 3 {
		t.Errorf("listed %v in %d pages, want %v in 3", got, pages, want)
	}
}

func clicks(t *testing.T, s links.Store) {
	if c, err := s.Counts(ctx(t), "quiet"); err != nil || c != (links.Counts{}) {
		t.Errorf("counts of a link never clicked: %+v %v", c, err)
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				add := links.Counts{All: 1}
				if (w+i)%3 != 0 {
					add.Human = 1
				}
				if _, err := s.AddClicks(ctx(t), "busy", add); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c, err := s.Counts(ctx(t), "busy")
	if err != nil || c != (links.Counts{All: 90, Human: 60}) {
		t.Errorf("counts %+v %v, want 90 all, 60 human", c, err)
	}
	if got, err := s.AddClicks(ctx(t), "busy", links.Counts{All: 2, Human: 1}); err != nil || got != (links.Counts{All: 92, Human: 61}) {
		t.Errorf("AddClicks returned %+v %v, want the new totals", got, err)
	}
}

func watch(t *testing.T, s links.Store) {
	if err := s.Create(ctx(t), full("w1")); err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 16)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Watch(wctx, func(slug string) { seen <- slug }); err != nil {
		t.Fatal(err)
	}
	l := full("w1")
	l.Disabled = true
	if err := s.Update(ctx(t), l); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx(t), full("w2")); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"w1": true, "w2": true}
	deadline := time.After(time.Second)
	for len(want) > 0 {
		select {
		case slug := <-seen:
			delete(want, slug)
		case <-deadline:
			t.Fatalf("changes to %v not seen within a second", want)
		}
	}
}

// Bus starts a real NATS server (embedded, JetStream on) for one test and
// connects to it: the KV store lives on it, and the Cassandra store sends
// its change notices through it.
func Bus(t *testing.T) *bus.Bus {
	t.Helper()
	srv, err := bus.StartEmbedded(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	b, err := bus.Connect(bus.Options{Name: "links-test", ConnectTimeout: 5 * time.Second, MaxPending: 64}, srv, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

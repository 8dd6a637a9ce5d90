// Package sinktest is the contract every Sink passes: the file sink, the
// Cassandra sink and any later one run the same Run.
package sinktest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// Harness connects the suite to one implementation.
type Harness struct {
	// New returns an unopened sink on a fresh, empty store for this test.
	// Calling New again within the same test must return a sink on the
	// same store (a restart).
	New func(t *testing.T) sinks.Sink
	// Stored reads back everything the store holds for this test, after
	// the suite has closed the sink.
	Stored func(t *testing.T) []*schema.Event
	// Links reads back the identity links of one visitor (by "visitor")
	// or one user (by "user") of app, folded to one per pair, after the
	// suite has closed the sink.
	Links func(t *testing.T, app, by, id string) []Link
}

// Link is one identity link as a store reports it.
type Link struct {
	Visitor, User, Via string
	First, Last        time.Time
}

// Run runs the contract.
func Run(t *testing.T, h Harness) {
	t.Run("RoundTripsEveryField", func(t *testing.T) { roundTrip(t, h) })
	t.Run("RedeliveryStoresOnce", func(t *testing.T) { redelivery(t, h) })
	t.Run("RedeliveryAfterRestartStoresOnce", func(t *testing.T) { restart(t, h) })
	t.Run("EmptyBatch", func(t *testing.T) { empty(t, h) })
	t.Run("IdentityLinksOrderAndRedeliveryFree", func(t *testing.T) { identity(t, h) })
}

func open(t *testing.T, h Harness) sinks.Sink {
	t.Helper()
	s := h.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// write hands evs to s as the worker would: a RawSink gets each event's
// canonical bytes with only its head decoded.
func write(t *testing.T, s sinks.Sink, evs []*schema.Event) {
	t.Helper()
	if _, ok := s.(sinks.RawSink); ok {
		raw := make([]*schema.Event, len(evs))
		for i, e := range evs {
			b, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if raw[i], err = schema.DecodeHead(b); err != nil {
				t.Fatal(err)
			}
		}
		evs = raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Write(ctx, evs); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func closeSink(t *testing.T, s sinks.Sink) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// Events returns n varied events: numbers, unicode, empty and missing
// values, large props; received at base plus i minutes.
func Events(n int, base time.Time) []*schema.Event {
	out := make([]*schema.Event, n)
	for i := range out {
		w, idx, score, first := int64(375+i), int64(i), float64(i)+0.25, i%2 == 0
		ct := base.Add(-time.Duration(i) * time.Second).Truncate(time.Millisecond)
		e := &schema.Event{
			EventID:    schema.NewEventID(),
			ReceivedAt: base.Add(time.Duration(i) * time.Minute).UTC().Truncate(time.Millisecond),
			Endpoint:   "tr",
			VisitorID:  fmt.Sprintf("v-%d", i%3),
			EventName:  []string{"click", "page_view", "Zürich 東京 🎉"}[i%3],
			ClientTime: &ct, Width: &w, ClientIndex: &idx, Score: &score, First: &first,
			Release: json.RawMessage(`1`),
			Props: map[string]json.RawMessage{
				"page":  json.RawMessage(fmt.Sprint(i)),
				"Label": json.RawMessage(`"MiXeD Case"`),
				"empty": json.RawMessage(`""`),
				"none":  json.RawMessage(`null`),
				"cart":  json.RawMessage(`{"items":[1,2.5,"x"],"total":9.99}`),
			},
		}
		if i%3 == 1 { // the server-derived fields
			bot := i%2 == 1
			e.Bot, e.BotFamily, e.OpenVia, e.GeoCountry, e.GeoCity = &bot, "Googlebot", "apple_mpp", "GB", "London"
			e.IPHash, e.IPPrefix = "", "81.2.69.0/24"
		} else {
			e.IPHash, e.UserAgent = "9f86d081884c7d65", "Mozilla/5.0 (X11; Linux x86_64)"
		}
		if i%4 == 1 {
			e.UserID = fmt.Sprintf("u-%d", i%2)
		}
		if i%5 == 0 {
			e.Props["big"] = json.RawMessage(`"` + strings.Repeat("x", 6000) + `"`)
		}
		if i%4 == 0 {
			e.Release = json.RawMessage(`"1.2.3"`)
			e.Props = nil // no props at all
		}
		out[i] = e
	}
	return out
}

func byID(t *testing.T, evs []*schema.Event) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, e := range evs {
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := m[e.EventID]; dup {
			t.Fatalf("event %s stored twice", e.EventID)
		}
		m[e.EventID] = string(b)
	}
	return m
}

func expectStored(t *testing.T, h Harness, want []*schema.Event) {
	t.Helper()
	got := byID(t, h.Stored(t))
	exp := byID(t, want)
	if len(got) != len(exp) {
		t.Fatalf("stored %d events, want %d", len(got), len(exp))
	}
	for id, w := range exp {
		if got[id] != w {
			t.Fatalf("event %s differs:\n got %s\nwant %s", id, got[id], w)
		}
	}
}

func roundTrip(t *testing.T, h Harness) {
	s := open(t, h)
	evs := Events(40, time.Now().Add(-time.Hour))
	write(t, s, evs[:25])
	write(t, s, evs[25:])
	closeSink(t, s)
	expectStored(t, h, evs)
}

func redelivery(t *testing.T, h Harness) {
	s := open(t, h)
	evs := Events(10, time.Now())
	write(t, s, evs)
	write(t, s, evs)                                     // the same batch redelivered
	write(t, s, []*schema.Event{evs[3], evs[3], evs[7]}) // duplicates inside one batch
	closeSink(t, s)
	expectStored(t, h, evs)
}

func restart(t *testing.T, h Harness) {
	s := open(t, h)
	evs := Events(10, time.Now())
	write(t, s, evs)
	closeSink(t, s)
	s = open(t, h)
	write(t, s, evs[2:8])
	closeSink(t, s)
	expectStored(t, h, evs)
}

func empty(t *testing.T, h Harness) {
	s := open(t, h)
	write(t, s, nil)
	closeSink(t, s)
	expectStored(t, h, nil)
}

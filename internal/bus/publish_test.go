package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// The PubAck shapes JetStream answers with (the server's own bytes, as
// nats-server 2.15 formats them), and what a publish hears of each.
func TestPubAckError(t *testing.T) {
	for _, tt := range []struct {
		name   string
		data   string
		status string
		want   string // "" : stored
	}{
		{"stored", `{"stream":"EVENTS","seq":12}`, "", ""},
		{"stored in a domain", `{"stream":"EVENTS","domain":"hub","seq":12}`, "", ""},
		{"a duplicate of a stored message", `{"stream":"EVENTS","seq":12,"duplicate": true}`, "", ""},
		{"refused, stream full", `{"error":{"code":503,"err_code":10077,"description":"maximum bytes exceeded"},"stream":"EVENTS","seq":0}`, "", "maximum bytes exceeded"},
		{"refused, error after the stream", `{"stream":"EVENTS","error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"}}`, "", "wrong last sequence"},
		{"no stream answered", "", "503", errNoStream.Error()},
		{"another status", "", "408", `status "408"`},
		{"not JSON", `nope`, "", "reading a publish ack"},
		{"JSON without a stream", `{"seq":1}`, "", "without a stream"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &nats.Msg{Data: []byte(tt.data)}
			if tt.status != "" {
				m.Header = nats.Header{"Status": []string{tt.status}}
			}
			err := pubAckError(m)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want stored", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// Against a real JetStream: a publish is settled by its own PubAck (stored,
// a duplicate dropped, refused by a full stream, nothing listening on the
// subject); at most MaxPending wait at once; a disconnect fails the ones
// still waiting, and the room they held is free again.
func TestPublishSettlesEachPublish(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	emb, b := testBus(t, ctx, 64<<10, 8)
	publish := func(id string, data []byte) error {
		t.Helper()
		p, err := b.Publish(0, id, data)
		if err != nil {
			t.Fatalf("publish %q: %v", id, err)
		}
		return p.Wait(ctx)
	}
	stored := func() uint64 {
		t.Helper()
		s, err := b.js.Stream(ctx, "EV")
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}

	// Stored, then the same id again: settled without an error, stored once.
	for range 2 {
		if err := publish("e-1", []byte(`{"event_id":"e-1"}`)); err != nil {
			t.Fatalf("first publish or its repeat: %v", err)
		}
	}
	if n := stored(); n != 1 {
		t.Fatalf("stream holds %d messages after a publish and its repeat, want 1", n)
	}

	// Many at once, more than MaxPending: each is settled, none stalls for
	// good (room comes back with every PubAck).
	var pend []Pending
	for i := range 40 {
		p, err := b.Publish(0, "", []byte(strings.Repeat("x", 100)+string(rune('a'+i%26))))
		if err != nil {
			t.Fatalf("publish %d: %v (room should come back as PubAcks arrive)", i, err)
		}
		pend = append(pend, p)
	}
	for i, p := range pend {
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if got := b.pub.pending(); got != 0 {
		t.Fatalf("%d publishes still hold room after every PubAck", got)
	}

	// The stream is full (64 KiB, DiscardNew): refused, with the server's reason.
	err := publish("", make([]byte, 70<<10))
	if err == nil || !strings.Contains(err.Error(), "maximum") {
		t.Fatalf("a publish past the stream's max bytes: %v, want refused", err)
	}

	// A subject no stream holds: the server's no-responders status.
	a, err := b.pub.publish("nobody.listens", "", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.wait(ctx); !errors.Is(err, errNoStream) {
		t.Fatalf("a publish nothing stores: %v, want %v", err, errNoStream)
	}

	// A disconnect fails what waits and frees its room. A plain subscriber
	// that never answers keeps the publish waiting until then.
	if _, err := b.nc.SubscribeSync("silent"); err != nil {
		t.Fatal(err)
	}
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waiting, err := b.pub.publish("silent", "", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-waiting.done:
		t.Fatalf("a publish nobody answers was settled: %v", waiting.err)
	case <-time.After(200 * time.Millisecond):
	}
	emb.Shutdown()
	if err := waiting.wait(ctx); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("a publish waiting through a disconnect: %v, want %v", err, ErrNotConnected)
	}
	if got := b.pub.pending(); got != 0 {
		t.Fatalf("%d publishes hold room after a disconnect failed them all", got)
	}
}

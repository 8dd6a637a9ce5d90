package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

// A poison message (bytes no sink can store) ends on the dead-letter
// stream with its reason and original bytes, and does not hold up the
// good events around it.
func TestPoisonMessageIsDeadLettered(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir))
	defer a.Stop()
	for _, data := range []string{`not json at all`, `{"event_id":"x","received_at":"2026-11-22T10:00:00Z",`} {
		p, err := a.Bus.Publish(0, schema.NewEventID(), []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// One message holding a good event and a poison line: the good one is
	// stored, the poison one dead-lettered on its own.
	good := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now().UTC().Truncate(time.Millisecond), EventName: "good0"}
	mixed := append(good.AppendJSON(nil), []byte("\n{broken")...)
	p, err := a.Bus.Publish(0, "b-mixed", mixed)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte(`[{"ename":"good1"},{"ename":"good2"}]`), nil)
	waitStored(t, dir, 3, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		dl, err := a.Bus.DeadLetters(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dl) == 3 {
			if string(dl[0].Data) != "not json at all" || !strings.Contains(dl[0].Reason, "permanent") || string(dl[2].Data) != "{broken" {
				t.Fatalf("dead letters = %q / %q, reason %q", dl[0].Data, dl[2].Data, dl[0].Reason)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters: %d, want 3", len(dl))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Replaying a dead letter publishes its bytes back to the event streams,
// removes it from the dead-letter stream only once JetStream holds it, and
// an event that is still poison comes back as a new dead letter: nothing
// is lost and nothing is left behind twice.
func TestReplayDeadLetters(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.NATS.Partitions = 3
	a := start(t, cfg)
	defer a.Stop()
	ctx := context.Background()
	p, err := a.Bus.Publish(1, schema.NewEventID(), []byte(`{"still":"poison"`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	first := waitDeadLetters(t, a.Bus.DeadLetterEntries, 1)[0]
	if first.Stream != "SPOOR_EVENTS_1" || !strings.Contains(first.Reason, "permanent") {
		t.Fatalf("dead letter from %q, reason %q", first.Stream, first.Reason)
	}
	if err := a.Bus.ReplayDeadLetter(ctx, first, 2); err != nil {
		t.Fatal(err)
	}
	again := waitDeadLetters(t, a.Bus.DeadLetterEntries, 1)[0]
	if again.Seq == first.Seq || again.Stream != "SPOOR_EVENTS_2" || string(again.Data) != string(first.Data) {
		t.Fatalf("after replay: #%d from %s %q; want a new entry from SPOOR_EVENTS_2 with the same bytes", again.Seq, again.Stream, again.Data)
	}
}

func waitDeadLetters(t *testing.T, read func(context.Context, int) ([]bus.DeadLetter, error), want int) []bus.DeadLetter {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dl, err := read(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(dl) == want {
			return dl
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want %d", len(dl), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

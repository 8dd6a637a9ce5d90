package bus

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testBus starts an embedded JetStream and connects to it with one event
// stream EV (subject ev) of maxBytes, at most maxPending publishes in
// flight, its streams made; both stop when the test ends.
func testBus(t *testing.T, ctx context.Context, maxBytes int64, maxPending int) (*Embedded, *Bus) {
	t.Helper()
	emb, err := StartEmbedded(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	b, err := Connect(Options{Name: "test", Stream: "EV", Subject: "ev", DLQStream: "DLQ", DLQSubject: "dlq",
		Replicas: 1, Partitions: 1, MaxAge: time.Hour, MaxBytes: maxBytes, DedupWindow: time.Minute, MaxPending: maxPending,
		ConnectTimeout: 5 * time.Second}, emb, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	return emb, b
}

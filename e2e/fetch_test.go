package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
)

// A replicated consumer with a backlog larger than one fetch: each fetch
// takes a full batch, in the stream's order. A replicated consumer sends
// a message once its delivery is replicated, but the status that ends a
// request whose batch or byte budget ran out at once; with the client's
// own Fetch that status overtook the messages, every fetch returned none,
// and (after a long destination outage) the consumer delivered nothing
// more (nats: batch completed).
func TestFetchTakesFullBatchesOfABacklogOnAReplicatedConsumer(t *testing.T) {
	dir := t.TempDir()
	cl := startNATSCluster(t, filepath.Join(dir, "nats"))
	b, err := bus.Connect(bus.Options{URL: cl.URL(), Name: "fetch-test", Stream: "FT", Subject: "ft.e", Partitions: 1,
		DLQStream: "FT_DLQ", DLQSubject: "ft.dlq", FailedStream: "FT_FAILED", FailedSubject: "ft.failed",
		Replicas: 3, MaxAge: time.Hour, MaxBytes: 1 << 30, DedupWindow: time.Minute, MaxPending: 4096,
		ConnectTimeout: 5 * time.Second}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	// Messages of 8 KiB: a fetch of 100 ends on its count (409 Batch
	// Completed), one of 300 on its byte budget, bus.MinFetchBytes (409
	// Message Size Exceeds MaxBytes) after about 130.
	const total, size = 2000, 8 << 10
	var last bus.Pending
	for i := range total {
		if last, err = b.Publish(0, "", payload(i, size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := last.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		batch int
	}{
		{"batch count ends each fetch", 100},
		{"byte budget ends each fetch", 300},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cons, err := b.Consumer(ctx, bus.ConsumerOptions{Durable: fmt.Sprintf("ft-%d", k), AckWait: time.Minute,
				MaxAckPending: 10000, MaxBytes: 1})
			if err != nil {
				t.Fatal(err)
			}
			perFetch := min(c.batch, bus.MinFetchBytes/size-1)
			next := 0
			for fetches := 0; next < total; fetches++ {
				if fetches > total/perFetch+3 {
					t.Fatalf("after %d fetches only %d of %d messages", fetches, next, total)
				}
				start := time.Now()
				msgs, err := cons.Fetch(c.batch, 2*time.Second)
				// A consumer just made R3 may have no leader yet (503, no
				// responders): the sink retries; so does the test, briefly.
				for try := 0; err != nil && strings.Contains(err.Error(), "503") && try < 20; try++ {
					time.Sleep(250 * time.Millisecond)
					msgs, err = cons.Fetch(c.batch, 2*time.Second)
				}
				if err != nil {
					t.Fatalf("fetch %d: %v", fetches, err)
				}
				if want := min(perFetch, total-next); len(msgs) < want {
					t.Fatalf("fetch %d gave %d messages, %d expected, after %s", fetches, len(msgs), want, time.Since(start))
				}
				for _, m := range msgs {
					if got := m.Data(); !bytes.Equal(got, payload(next, size)) {
						t.Fatalf("fetch %d: message %.6s where %d was next", fetches, got, next)
					}
					next++
					_ = m.Ack()
				}
			}
		})
	}
}

// payload is the i-th test message, size bytes starting with its number.
func payload(i, size int) []byte {
	p := bytes.Repeat([]byte{'.'}, size)
	copy(p, fmt.Sprintf("%06d", i))
	return p
}

package loss

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

// realMeter is a Meter on an embedded nats-server's buckets.
func realMeter(tb testing.TB) *Meter {
	tb.Helper()
	emb, err := bus.StartEmbedded(tb.TempDir(), "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(emb.Shutdown)
	b, err := bus.Connect(bus.Options{Name: "test", Stream: "EV", Subject: "ev", DLQStream: "DLQ", DLQSubject: "dlq",
		Replicas: 1, Partitions: 1, MaxAge: time.Hour, MaxBytes: 64 << 20, DedupWindow: time.Minute, MaxPending: 4096,
		ConnectTimeout: 5 * time.Second}, emb, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	ctx := context.Background()
	v, err := b.KeyValueTTL(ctx, VisitorsBucket, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := b.KeyValueTTL(ctx, HoursBucket, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := NewMeter(v, h, b.PutAll, "w1", 100_000, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// batch is n events of visitors distinct visitors, each visitor's indexes
// from next on.
func batch(n, visitors int, next map[int]int64) []*schema.Event {
	evs := make([]*schema.Event, n)
	now := time.Now().UTC()
	for i := range evs {
		v := i % visitors
		next[v]++
		idx := next[v]
		evs[i] = &schema.Event{EventID: schema.NewEventID(), ReceivedAt: now, App: "shop", VisitorID: fmt.Sprintf("v%d", v), ClientIndex: &idx}
	}
	return evs
}

// A batch of 500 SDK events as the store sink hands them over, from 500
// visitors or 50: what the meter adds to each batch, KV writes included.
func BenchmarkObserve(b *testing.B) {
	for _, visitors := range []int{500, 50} {
		b.Run(fmt.Sprintf("visitors=%d", visitors), func(b *testing.B) {
			m := realMeter(b)
			next := map[int]int64{}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				evs := batch(500, visitors, next)
				if err := m.Observe(ctx, evs, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
		})
	}
}

// The counts survive a new Meter on the same buckets (a restarted sink).
func TestMeterStateInTheBucket(t *testing.T) {
	m := realMeter(t)
	ctx := context.Background()
	idx := func(n int64) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now().UTC(), App: "shop", VisitorID: "v1", ClientIndex: &n}
	}
	if err := m.Observe(ctx, []*schema.Event{idx(1), idx(2)}, nil); err != nil {
		t.Fatal(err)
	}
	m2, err := NewMeter(m.visitors, m.hours, m.put, "w2", 10, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Observe(ctx, []*schema.Event{idx(3), idx(3), idx(5)}, []bool{false, true, false}); err != nil {
		t.Fatal(err)
	}
	by, err := Hours(ctx, m.hours, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Total(by["shop"]), (Counts{Received: 4, Gap: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

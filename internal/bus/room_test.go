package bus

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A full stream makes room out of what every durable consumer acknowledged,
// never out of what one of them has still to settle; then it takes events
// again.
func TestMakeRoomPurgesOnlyWhatEveryConsumerSettled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, b := testBus(t, ctx, 256<<10, 256)
	s, err := b.js.Stream(ctx, "EV")
	if err != nil {
		t.Fatal(err)
	}
	durable := func(name string) jetstream.Consumer {
		c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ack := func(c jetstream.Consumer, n int) {
		for n > 0 {
			batch, err := c.Fetch(min(n, 100), jetstream.FetchMaxWait(2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				if err := m.DoubleAck(ctx); err != nil {
					t.Fatal(err)
				}
				n--
			}
		}
	}
	room := func(want uint64) {
		t.Helper()
		got, err := b.MakeRoom(ctx, 0.8)
		if err != nil || got != want {
			t.Fatalf("MakeRoom: purged %d, %v; want %d", got, err, want)
		}
	}
	body := bytes.Repeat([]byte("x"), 1000)
	fill := func() int { // publishes until the stream refuses
		n := 0
		for ; ; n++ {
			if _, err := b.js.Publish(ctx, "ev", body); err != nil {
				return n
			}
		}
	}
	n := fill()
	if n < 100 {
		t.Fatalf("the stream took only %d messages", n)
	}
	room(0) // no durable consumer: nothing is known settled
	store, dest := durable("spoor-sink"), durable("spoor-dest-hook")
	if _, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{}); err != nil { // a live tail, reading nothing
		t.Fatal(err)
	}
	ack(store, n)
	ack(dest, n/2)
	room(uint64(n / 2))
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.FirstSeq != uint64(n/2)+1 || info.State.Msgs != uint64(n-n/2) {
		t.Fatalf("after the purge: first %d, %d messages; want %d, %d", info.State.FirstSeq, info.State.Msgs, n/2+1, n-n/2)
	}
	more := fill()
	if more == 0 || more > n/2+10 {
		t.Fatalf("after the purge the stream took %d more messages, want about %d", more, n/2)
	}
	ack(dest, n-n/2+more)
	room(uint64(n - n/2)) // the store has not settled the new ones
	ack(store, more)
	room(0) // settled, but below the mark: history stays while there is room
	again := fill()
	ack(store, again)
	ack(dest, again)
	room(uint64(more + again))
}

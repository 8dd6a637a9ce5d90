package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/kafkatest"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/deliverytest"
	"github.com/twmb/franz-go/pkg/kgo"
)

var topicSeq atomic.Int64

// freshTopic is a topic no other test writes.
func freshTopic() string {
	return fmt.Sprintf("spoor-test-%d-%d", time.Now().UnixNano(), topicSeq.Add(1))
}

func newKafka(t *testing.T, settings map[string]any) *Kafka {
	t.Helper()
	s := map[string]any{"brokers": toAny(kafkatest.Need(t)), "timeout": "3s"}
	for k, v := range settings {
		s[k] = v
	}
	k, err := New(sinks.Destination{Name: "stream", Settings: s, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return k.(*Kafka)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// records reads every record of topics from the start, until none came
// for a second.
func records(t *testing.T, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkatest.Brokers()...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	quiet := time.Now()
	for time.Since(quiet) < time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		n := 0
		f.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if n > 0 {
			quiet = time.Now()
		}
	}
	return out
}

func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// receiver is the topic, read back; failing is the broker stopping.
type receiver struct {
	t     *testing.T
	topic string
}

func (r *receiver) Received(t *testing.T) []deliverytest.Delivered {
	var out []deliverytest.Delivered
	for _, rec := range records(t, r.topic) {
		out = append(out, deliverytest.Delivered{Key: header(rec, "event_id"), Visitor: string(rec.Key)})
	}
	return out
}

// FailOn stops the broker, whichever the event: a broker is up or down.
func (r *receiver) FailOn(string, deliverytest.Failure) { kafkatest.Pause(r.t) }
func (r *receiver) Heal()                               { kafkatest.Resume(r.t) }

func TestDeliveryContract(t *testing.T) {
	deliverytest.Run(t, deliverytest.Harness{New: func(t *testing.T) (sinks.Sink, deliverytest.Receiver) {
		topic := freshTopic()
		return newKafka(t, map[string]any{"topic": topic}), &receiver{t: t, topic: topic}
	}})
}

// Records are keyed by visitor (a partition keeps a visitor's order), carry
// the event id and app as headers, go to each app's topic when asked, in
// spoor's or Segment's JSON; a forget produces tombstones keyed by the
// person's ids.
func TestRecordsTopicsAndTombstones(t *testing.T) {
	prefix := freshTopic()
	k := newKafka(t, map[string]any{"topic": prefix, "topic_per_app": true, "format": "segment"})
	if err := k.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	now := time.Now().UTC()
	evs := []*schema.Event{
		{EventID: schema.NewEventID(), ReceivedAt: now, App: "shop", VisitorID: "v1", EventName: "Order Completed", EventType: "track",
			Props: map[string]json.RawMessage{"total": json.RawMessage(`27.5`)}},
		{EventID: schema.NewEventID(), ReceivedAt: now, App: "blog site", UserID: "u9", EventName: "read", EventType: "track"},
	}
	if err := k.Write(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	shop, blog := records(t, prefix+".shop"), records(t, prefix+".blog_site")
	if len(shop) != 1 || len(blog) != 1 {
		t.Fatalf("records: shop %d, blog %d", len(shop), len(blog))
	}
	if string(shop[0].Key) != "v1" || header(shop[0], "event_id") != evs[0].EventID || header(shop[0], "app") != "shop" {
		t.Fatalf("shop record: key %q headers %v", shop[0].Key, shop[0].Headers)
	}
	var msg map[string]any
	if err := json.Unmarshal(shop[0].Value, &msg); err != nil || msg["type"] != "track" || msg["event"] != "Order Completed" ||
		msg["anonymousId"] != "v1" || msg["messageId"] != evs[0].EventID {
		t.Fatalf("a Segment message: %s (%v)", shop[0].Value, err)
	}
	if string(blog[0].Key) != "u:u9" {
		t.Fatalf("a user's event without a visitor is keyed by the user: %q", blog[0].Key)
	}
	if err := k.Forget(t.Context(), sinks.ForgetNotice{App: "shop", RequestID: "r-1", Visitors: []string{"v1"}, Users: []string{"u1"}}); err != nil {
		t.Fatal(err)
	}
	var tombs []string
	for _, r := range records(t, prefix+".shop") {
		if r.Value == nil {
			tombs = append(tombs, string(r.Key)+" "+header(r, "spoor_forget"))
		}
	}
	sort.Strings(tombs) // the two keys may be in two partitions
	if strings.Join(tombs, ",") != "u:u1 r-1,v1 r-1" {
		t.Fatalf("tombstones: %q", tombs)
	}
}

func TestSettings(t *testing.T) {
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{"topic": "t"}, "brokers"},
		{map[string]any{"brokers": []any{"h:9092"}, "topic": "bad topic"}, "topic"},
		{map[string]any{"brokers": []any{"h:9092"}, "topic": "t", "format": "avro"}, "format"},
		{map[string]any{"brokers": []any{"h:9092"}, "topic": "t", "acks": 1}, "acks"},
	} {
		if _, err := New(sinks.Destination{Name: "s", Settings: c.settings}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %q", c.settings, err, c.want)
		}
	}
}

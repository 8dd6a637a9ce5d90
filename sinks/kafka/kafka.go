// Package kafka is the Kafka destination, for warehouses and stream
// processors: each event one record, keyed by its visitor (so a visitor's
// events keep their order in one partition), produced idempotently with
// acks from every in-sync replica (franz-go), to a fixed topic or one per
// app (docs/destinations.md, "Kafka").
package kafka

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/segment"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Settings are the Kafka destination's keys.
type Settings struct {
	Brokers []string `mapstructure:"brokers"` // host:port, at least one
	// Topic is where every event goes; with TopicPerApp, the prefix of
	// each app's topic (<topic>.<app>).
	Topic       string        `mapstructure:"topic"`
	TopicPerApp bool          `mapstructure:"topic_per_app"`
	Format      string        `mapstructure:"format"`  // spoor (default) or segment
	Timeout     time.Duration `mapstructure:"timeout"` // a batch's delivery, retries included; 0: 30 s
}

func init() {
	sinks.Register("kafka", sinks.Type{New: New, Sample: `{"name": "stream", "type": "kafka", "brokers": ["kafka-1:9092", "kafka-2:9092"],
  "topic": "spoor.events", "topic_per_app": false, "format": "spoor"}`})
}

var topicName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// Kafka produces to one cluster.
type Kafka struct {
	name   string
	s      Settings
	log    zerolog.Logger
	encode func(*schema.Event) ([]byte, error)
	cl     *kgo.Client
}

var (
	_ sinks.Sink      = (*Kafka)(nil)
	_ sinks.Forgetter = (*Kafka)(nil)
)

// New checks the settings and builds the destination (no I/O).
func New(d sinks.Destination) (sinks.Sink, error) {
	var s Settings
	if err := sinks.DecodeSettings(d.Settings, &s); err != nil {
		return nil, err
	}
	if len(s.Brokers) == 0 {
		return nil, errors.New("brokers are missing")
	}
	if !topicName.MatchString(s.Topic) {
		return nil, fmt.Errorf("topic must be 1-200 of letters, digits, '.', '_' and '-', got %q", s.Topic)
	}
	k := &Kafka{name: d.Name, s: s, log: d.Log}
	switch s.Format {
	case "", "spoor":
		k.encode = func(e *schema.Event) ([]byte, error) {
			if e.Raw != nil {
				return e.Raw, nil
			}
			return e.Encode()
		}
	case "segment":
		k.encode = segment.Encode
	default:
		return nil, fmt.Errorf("format must be spoor or segment, got %q", s.Format)
	}
	if k.s.Timeout <= 0 {
		k.s.Timeout = 30 * time.Second
	}
	return k, nil
}

// Open connects (the brokers answer, or Open fails).
func (k *Kafka) Open(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.s.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(5*time.Millisecond), kgo.RecordDeliveryTimeout(k.s.Timeout),
		kgo.DialTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("creating the Kafka client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return fmt.Errorf("reaching the brokers %v: %w", k.s.Brokers, err)
	}
	k.cl = cl
	return nil
}

// Close flushes what is buffered and disconnects.
func (k *Kafka) Close() error {
	if k.cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = k.cl.Flush(ctx)
		k.cl.Close()
		k.cl = nil
	}
	return nil
}

// topicOf is where e goes.
func (k *Kafka) topicOf(app string) string {
	if !k.s.TopicPerApp {
		return k.s.Topic
	}
	a := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, app)
	if a == "" {
		a = "_"
	}
	return k.s.Topic + "." + a
}

// key is what orders a visitor's records: its visitor, else its user,
// else its own id.
func key(e *schema.Event) string {
	switch {
	case e.VisitorID != "":
		return e.VisitorID
	case e.UserID != "":
		return "u:" + e.UserID
	}
	return e.EventID
}

// Write produces every event and waits for all of them. A record's key is
// its visitor, so a visitor's records share a partition, where the
// idempotent producer keeps them in order through its retries; one that
// still fails fails its visitor's later records of the batch too.
func (k *Kafka) Write(ctx context.Context, events []*schema.Event) error {
	if len(events) == 0 {
		return nil
	}
	errs := make([]error, len(events))
	var recs []*kgo.Record
	var idx []int
	for i, e := range events {
		v, err := k.encode(e)
		if err != nil {
			errs[i] = sinks.Permanent(fmt.Errorf("encoding event %s: %w", e.EventID, err))
			continue
		}
		recs = append(recs, &kgo.Record{Topic: k.topicOf(e.App), Key: []byte(key(e)), Value: v,
			Headers: []kgo.RecordHeader{{Key: "event_id", Value: []byte(e.EventID)}, {Key: "app", Value: []byte(e.App)}}})
		idx = append(idx, i)
	}
	res := k.cl.ProduceSync(ctx, recs...)
	failed := map[string]error{} // a visitor whose record failed for a reason a retry may fix
	for n, r := range res {
		i := idx[n]
		err := classify(r.Err)
		if f, ok := failed[key(events[i])]; ok && err == nil {
			err = f // stored after a failed earlier one of its visitor: order is not kept, so it is retried too
		}
		if err != nil && !errors.Is(err, sinks.ErrPermanent) {
			if _, ok := failed[key(events[i])]; !ok {
				failed[key(events[i])] = err
			}
		}
		errs[i] = err
	}
	for _, err := range errs {
		if err != nil {
			return &sinks.BatchError{Errs: errs}
		}
	}
	return nil
}

// classify makes a produce error a delivery result: a record too large,
// an invalid topic or a refused authorization never succeeds; the rest
// (a broker down, a timeout, a leader moving) may.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	permanent := errors.As(err, &ke) && !ke.Retriable &&
		(errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.InvalidTopicException) ||
			errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.InvalidRecord) ||
			errors.Is(err, kerr.RecordListTooLarge))
	return &sinks.DeliveryError{Permanent: permanent, Err: err}
}

// Forget produces a tombstone (a record with no value) keyed by each of
// the person's ids, to the app's topic: a compacted topic then drops the
// person's records, and a consumer sees the deletion.
func (k *Kafka) Forget(ctx context.Context, n sinks.ForgetNotice) error {
	var recs []*kgo.Record
	hdr := []kgo.RecordHeader{{Key: "spoor_forget", Value: []byte(n.RequestID)}, {Key: "app", Value: []byte(n.App)}}
	for _, v := range n.Visitors {
		recs = append(recs, &kgo.Record{Topic: k.topicOf(n.App), Key: []byte(v), Headers: hdr})
	}
	for _, u := range n.Users {
		recs = append(recs, &kgo.Record{Topic: k.topicOf(n.App), Key: []byte("u:" + u), Headers: hdr})
	}
	if err := k.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing tombstones: %w", err)
	}
	return nil
}

package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerOptions configures the durable pull consumer sink workers share.
type ConsumerOptions struct {
	Durable       string // every sink process with this name shares the work
	AckWait       time.Duration
	MaxAckPending int   // per partition
	Partitions    []int // partitions to consume; empty: all
	// StartAtNew: a consumer created now starts with the messages
	// published from now on (a new destination), not the stream's whole
	// retention. An existing consumer keeps its place either way.
	StartAtNew bool
	// MaxBytes bounds one Fetch's messages in bytes, over all partitions
	// (each asks for its share, at least MinFetchBytes); 0: no bound.
	MaxBytes int
}

// MinFetchBytes is the least a partition's fetch may ask for: more than
// the largest message (the collector packs at most 512 KiB; NATS carries
// up to 1 MiB by default), or a message larger than the bound would stop
// the consumer.
const MinFetchBytes = 1<<20 + 64<<10

// Consumer is the durable pull consumer on each consumed partition's
// stream (one JetStream consumer per stream, all with the same name).
type Consumer struct {
	parts    []partConsumer
	name     string
	maxBytes int // per partition's fetch; 0: no bound
}

type partConsumer struct {
	c      jetstream.Consumer
	nc     *nats.Conn
	next   string // the consumer's next-messages API subject
	stream string
}

// Consumer creates or updates the durable consumer on every partition it
// consumes. Messages are delivered
// until acked or terminated: no MaxDeliver, so a long store outage never
// turns into silent loss; poison messages are dead-lettered by the worker.
func (b *Bus) Consumer(ctx context.Context, o ConsumerOptions) (*Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       o.Durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: o.MaxAckPending,
		MaxWaiting:    512,
	}
	if o.StartAtNew {
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	parts := o.Partitions
	if len(parts) == 0 {
		for p := range b.Partitions() {
			parts = append(parts, p)
		}
	}
	out := &Consumer{name: o.Durable}
	if o.MaxBytes > 0 {
		out.maxBytes = max(o.MaxBytes/max(len(parts), 1), MinFetchBytes)
	}
	for _, p := range parts {
		if p != FailedPart && (p < 0 || p >= b.Partitions()) {
			return nil, fmt.Errorf("consuming partition %d: there are %d", p, b.Partitions())
		}
		stream := b.StreamName(p)
		var (
			c   jetstream.Consumer
			err error
		)
		for {
			actx, cancel := context.WithTimeout(ctx, 3*time.Second)
			c, err = b.js.CreateOrUpdateConsumer(actx, stream, cfg)
			cancel()
			if err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil {
			return nil, fmt.Errorf("creating consumer %s on %s: %w", o.Durable, stream, err)
		}
		out.parts = append(out.parts, b.partConsumer(c, stream))
	}
	return out, nil
}

// Fetch returns up to n messages of each consumed partition, and no more
// than ConsumerOptions.MaxBytes of them, waiting at most wait for them
// (partitions are fetched concurrently). It returns
// early with fewer when wait passes, and an error only when no partition
// gave a message and one failed.
func (c *Consumer) Fetch(n int, wait time.Duration) ([]*Msg, error) {
	if len(c.parts) == 1 {
		return c.parts[0].fetch(n, c.maxBytes, wait, c.name)
	}
	got := make([][]*Msg, len(c.parts))
	errs := make([]error, len(c.parts))
	var wg sync.WaitGroup
	for i := range c.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = c.parts[i].fetch(n, c.maxBytes, wait, c.name)
		}()
	}
	wg.Wait()
	var msgs []*Msg
	for _, g := range got {
		msgs = append(msgs, g...)
	}
	if len(msgs) == 0 {
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// partConsumer is c, on stream, read with our own pull requests (fetch).
func (b *Bus) partConsumer(c jetstream.Consumer, stream string) partConsumer {
	return partConsumer{c: c, nc: b.nc, stream: stream, next: "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + c.CachedInfo().Name}
}

// AckPending is how many messages were delivered and are not yet
// acknowledged, over every consumed partition: after a restart, the ones
// the previous process held, which JetStream redelivers once their
// ack_wait passes.
func (c *Consumer) AckPending(ctx context.Context) (int, error) {
	n := 0
	for _, p := range c.parts {
		info, err := p.c.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("reading consumer %s on %s: %w", c.name, p.stream, err)
		}
		n += info.NumAckPending
	}
	return n, nil
}

func (p partConsumer) fetch(n, maxBytes int, wait time.Duration, name string) ([]*Msg, error) {
	// A pull request of our own rather than the client's Fetch, for two
	// reasons seen under faults. A replicated consumer (a cluster) sends
	// each message only once its delivery is replicated, but the 409
	// "Batch Completed" / "Message Size Exceeds MaxBytes" that ends a
	// request at once: the status overtakes the messages, the client's
	// Fetch returns with none of them, and they wait ack_wait to be
	// redelivered, while newer ones go first (after a long destination
	// outage every fetch ended that way, and the consumer delivered
	// nothing more). Here a 409 carries how many messages the request still
	// lacked, so the fetch waits for the ones sent. And the client's fetch
	// restarts its expiry on every message, status ones included (after all
	// three servers of a cluster restarted it looped for minutes): this one
	// ends at wait plus a margin, whatever arrives.
	ch := make(chan *nats.Msg, n+16)
	sub, err := p.nc.ChanSubscribe(p.nc.NewInbox(), ch)
	if err != nil {
		return nil, fmt.Errorf("fetching from %s on %s: subscribing: %w", name, p.stream, err)
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(pullRequest{Batch: n, MaxBytes: maxBytes, Expires: wait})
	if err := p.nc.PublishRequest(p.next, sub.Subject, req); err != nil {
		return nil, fmt.Errorf("fetching from %s on %s: %w", name, p.stream, err)
	}
	deadline := time.NewTimer(wait + fetchMargin)
	defer deadline.Stop()
	return collect(ch, deadline.C, n, p.stream, name)
}

// collect reads a pull request's deliveries from ch until the server has
// sent the n messages it will send, ended the request, or deadline fires.
func collect(ch <-chan *nats.Msg, deadline <-chan time.Time, n int, stream, name string) ([]*Msg, error) {
	msgs := make([]*Msg, 0, n)
	want := n // messages the server sends for this request
	// Past the deadline, take what was delivered already: a process stalled
	// past it (CPU throttled, stopped) finds the request's messages queued
	// when it runs again, and left unread they would wait ack_wait for their
	// redelivery. late fires once nothing more came for lateGrace.
	var late <-chan time.Time
	for len(msgs) < want {
		select {
		case <-deadline:
			deadline, late = nil, time.After(lateGrace)
			continue
		case <-late:
			return msgs, nil
		case m := <-ch:
			if late != nil {
				late = time.After(lateGrace)
			}
			status := ""
			if len(m.Data) == 0 && m.Header != nil {
				status = m.Header.Get("Status")
			}
			switch status {
			case "":
				msgs = append(msgs, &Msg{m: m, stream: stream})
			case "100": // heartbeat or flow control
			case "404", "408": // nothing more: no messages, or the request expired
				return msgs, nil
			case "409":
				descr := strings.ToLower(m.Header.Get("Description"))
				if !strings.Contains(descr, "batch completed") && !strings.Contains(descr, "exceeds maxbytes") {
					return endFetch(msgs, fmt.Errorf("fetching from %s on %s: %s", name, stream, m.Header.Get("Description")))
				}
				left, _ := strconv.Atoi(m.Header.Get("Nats-Pending-Messages"))
				want = n - max(left, 0)
			default:
				return endFetch(msgs, fmt.Errorf("fetching from %s on %s: status %s %s", name, stream, status, m.Header.Get("Description")))
			}
		}
	}
	return msgs, nil
}

// lateGrace is how long a fetch past its deadline waits for a next message
// already on its way before it ends.
const lateGrace = 20 * time.Millisecond

// endFetch returns the messages a fetch got, or its error when it got none.
func endFetch(msgs []*Msg, err error) ([]*Msg, error) {
	if len(msgs) > 0 {
		return msgs, nil
	}
	return nil, err
}

// pullRequest is JetStream's request for the next messages of a pull
// consumer ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>).
type pullRequest struct {
	Batch    int           `json:"batch"`
	MaxBytes int           `json:"max_bytes,omitempty"`
	Expires  time.Duration `json:"expires,omitempty"` // nanoseconds
}

// fetchMargin is how much longer than its wait a fetch may take (the
// server's pull request expires at 90% of the context's remaining time).
const fetchMargin = 250 * time.Millisecond

// Msg is one delivered message.
type Msg struct {
	m      *nats.Msg
	stream string
}

// Stream is the partition stream the message came from.
func (m *Msg) Stream() string { return m.stream }

// Data is the canonical event encoding.
func (m *Msg) Data() []byte { return m.m.Data }

// Delivered is how many times this message has been delivered (1 = first).
func (m *Msg) Delivered() uint64 {
	md, err := m.m.Metadata()
	if err != nil {
		return 1
	}
	return md.NumDelivered
}

// StreamSeq is the message's sequence in the stream.
func (m *Msg) StreamSeq() uint64 {
	md, err := m.m.Metadata()
	if err != nil {
		return 0
	}
	return md.Sequence.Stream
}

func (m *Msg) Ack() error                    { return m.m.Ack() }
func (m *Msg) Nak(delay time.Duration) error { return m.m.NakWithDelay(delay) }
func (m *Msg) Term(reason string) error      { return m.m.Respond([]byte("+TERM " + reason)) }
func (m *Msg) InProgress() error             { return m.m.InProgress() }

// DeadLetter stores data (one event of msg, the line-th) with the reason on
// the dead-letter stream and waits for JetStream to hold it. Only then may
// the message be acknowledged or terminated.
func (b *Bus) DeadLetter(ctx context.Context, msg *Msg, line int, data []byte, consumer, reason string) error {
	dl := &nats.Msg{
		Subject: b.opts.DLQSubject,
		Data:    data,
		Header: nats.Header{
			"Spoor-Reason":     []string{reason},
			"Spoor-Consumer":   []string{consumer},
			"Spoor-Stream":     []string{msg.stream},
			"Spoor-Stream-Seq": []string{strconv.FormatUint(msg.StreamSeq(), 10)},
			"Spoor-Line":       []string{strconv.Itoa(line)},
			"Spoor-Dead-At":    []string{time.Now().UTC().Format(time.RFC3339Nano)},
		},
	}
	// One entry per consumer and event: a destination's refusal of an
	// event does not hide the store's, nor the other way round.
	dl.Header.Set(jetstream.MsgIDHeader, "dlq-"+consumer+"-"+msg.stream+"-"+strconv.FormatUint(msg.StreamSeq(), 10)+"-"+strconv.Itoa(line))
	if _, err := b.js.PublishMsg(ctx, dl); err != nil {
		return fmt.Errorf("publishing dead letter: %w", err)
	}
	return nil
}

// DeadLetters reads the dead-letter stream from the start (operations and
// tests): each entry's reason and original bytes.
func (b *Bus) DeadLetters(ctx context.Context, max int) ([]StoredMsg, error) {
	return b.read(ctx, b.opts.DLQStream, max)
}

// Events reads every partition's event stream from the start (tests and
// tools), partition after partition.
func (b *Bus) Events(ctx context.Context, max int) ([]StoredMsg, error) {
	var out []StoredMsg
	for p := range b.Partitions() {
		got, err := b.read(ctx, b.StreamName(p), max-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func (b *Bus) read(ctx context.Context, stream string, max int) ([]StoredMsg, error) {
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s info: %w", stream, err)
	}
	var out []StoredMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && len(out) < max && info.State.Msgs > 0; seq++ {
		raw, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		out = append(out, StoredMsg{Reason: raw.Header.Get("Spoor-Reason"), Data: raw.Data})
	}
	return out, nil
}

// StoredMsg is one message read back from a stream (Reason is set on the
// dead-letter stream).
type StoredMsg struct {
	Reason string
	Data   []byte
}

// StreamMsgs is the number of messages the event streams hold.
func (b *Bus) StreamMsgs(ctx context.Context) (uint64, error) {
	var n uint64
	for p := range b.Partitions() {
		s, err := b.js.Stream(ctx, b.StreamName(p))
		if err != nil {
			return 0, fmt.Errorf("opening stream: %w", err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("reading stream info: %w", err)
		}
		n += info.State.Msgs
	}
	return n, nil
}

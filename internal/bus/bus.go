package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Options says where the bus is and what its streams look like.
type Options struct {
	URL            string // empty: use the Embedded server given to Connect
	Name           string // client name shown by the server
	Stream         string
	Subject        string // events are published on Subject
	Partitions     int    // >1: stream Stream_<n> on subject Subject.<n> per partition
	DLQStream      string
	DLQSubject     string // dead letters are published on DLQSubject
	FailedStream   string // failed events (schema.Failed), one stream, published as partition FailedPart
	FailedSubject  string
	Replicas       int
	MaxAge         time.Duration
	MaxBytes       int64
	DedupWindow    time.Duration
	Compression    string // "s2": the file store compresses each block once it is full; "" or "none": not
	MaxPending     int    // async publishes in flight
	ConnectTimeout time.Duration
	// PingInterval: how often the server is pinged (0: nats.go's 2 minutes);
	// two pings unanswered and the connection is dropped and redialled, so a
	// link that goes silent without closing is left within ~2 intervals.
	PingInterval time.Duration
}

// Bus is a connection to JetStream.
type Bus struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	pub  *publisher
	opts Options
	log  zerolog.Logger
	// up mirrors the connection's state from nats.go's callbacks, so that
	// the hot path never asks nc: while reconnecting, nats.go holds the
	// connection's lock through each dial and INFO read (up to
	// connect_timeout per server), and IsConnected or a publish would wait
	// on it; a collector must instead spool at once.
	up *atomic.Bool
}

// ErrNotConnected is returned by Publish while the connection is down.
var ErrNotConnected = errors.New("nats not connected")

// Connect dials the server (emb when opts.URL is empty) and keeps
// reconnecting forever in the background. Publishing while disconnected
// fails at once instead of buffering, so callers can fall back to the spool.
func Connect(opts Options, emb *Embedded, log zerolog.Logger) (*Bus, error) {
	up := new(atomic.Bool)
	var pubs atomic.Pointer[publisher] // set once connected; the disconnect handler fails its publishes
	nopts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.RetryOnFailedConnect(true),
		nats.Timeout(opts.ConnectTimeout),
		nats.ConnectHandler(func(*nats.Conn) { up.Store(true) }),
		nats.ClosedHandler(func(*nats.Conn) { up.Store(false) }),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			up.Store(false) // first: the checks below wait for the reconnect's lock
			if p := pubs.Load(); p != nil {
				p.failAll(ErrNotConnected) // their PubAcks may never come
			}
			if c.IsClosed() || c.IsDraining() {
				log.Debug().Err(err).Msg("nats connection closed")
				return
			}
			log.Warn().Err(err).Msg("nats disconnected")
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			up.Store(true)
			log.Info().Str("url", c.ConnectedUrl()).Msg("nats reconnected")
		}),
	}
	if opts.PingInterval > 0 {
		nopts = append(nopts, nats.PingInterval(opts.PingInterval), nats.MaxPingsOutstanding(2))
	}
	url := opts.URL
	if url == "" {
		if emb == nil {
			return nil, errors.New("connecting to nats: no url and no embedded server")
		}
		nopts = append(nopts, nats.InProcessServer(emb.srv))
	}
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to nats %q: %w", url, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(opts.MaxPending))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("creating jetstream context: %w", err)
	}
	pub, err := newPublisher(nc, opts.MaxPending)
	if err != nil {
		nc.Close()
		return nil, err
	}
	pubs.Store(pub)
	if nc.IsConnected() { // else ConnectHandler says so when the first dial succeeds
		up.Store(true)
	}
	return &Bus{nc: nc, js: js, pub: pub, opts: opts, log: log, up: up}, nil
}

// Partitions is how many event streams there are (at least 1).
func (b *Bus) Partitions() int { return max(b.opts.Partitions, 1) }

// FailedPart is the partition number of the failed stream: publishing to
// it, or consuming it, reaches Options.FailedStream.
const FailedPart = -1

// StreamName is the event stream of partition part. With one partition it
// is Options.Stream itself (the layout of a single-stream installation);
// with more, Stream_<part>. FailedPart's is the failed stream.
func (b *Bus) StreamName(part int) string {
	if part == FailedPart {
		return b.opts.FailedStream
	}
	if b.Partitions() == 1 {
		return b.opts.Stream
	}
	return b.opts.Stream + "_" + strconv.Itoa(part)
}

// SubjectName is the subject partition part is published on: Subject, or
// Subject.<part> with more than one partition.
func (b *Bus) SubjectName(part int) string {
	if part == FailedPart {
		return b.opts.FailedSubject
	}
	if b.Partitions() == 1 {
		return b.opts.Subject
	}
	return b.opts.Subject + "." + strconv.Itoa(part)
}

// EnsureStreams creates or updates the event streams (one per partition)
// and the dead-letter stream. It retries with short attempts until ctx
// ends, because a fresh cluster has no meta leader for a few seconds.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	comp := jetstream.NoCompression
	if b.opts.Compression == "s2" {
		comp = jetstream.S2Compression
	}
	var cfgs []jetstream.StreamConfig
	for part := range b.Partitions() {
		cfgs = append(cfgs, jetstream.StreamConfig{
			Name: b.StreamName(part), Subjects: []string{b.SubjectName(part)},
			Storage: jetstream.FileStorage, Replicas: b.opts.Replicas, Compression: comp,
			Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardNew,
			MaxAge: b.opts.MaxAge, MaxBytes: b.opts.MaxBytes, Duplicates: b.opts.DedupWindow,
		})
	}
	if b.opts.FailedStream != "" {
		// Failed events are kept as long as events, in a tenth of the room.
		cfgs = append(cfgs, jetstream.StreamConfig{
			Name: b.opts.FailedStream, Subjects: []string{b.opts.FailedSubject},
			Storage: jetstream.FileStorage, Replicas: b.opts.Replicas, Compression: comp,
			Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardNew,
			MaxAge: b.opts.MaxAge, MaxBytes: b.opts.MaxBytes / 10, Duplicates: b.opts.DedupWindow,
		})
	}
	cfgs = append(cfgs, jetstream.StreamConfig{
		Name: b.opts.DLQStream, Subjects: []string{b.opts.DLQSubject},
		Storage: jetstream.FileStorage, Replicas: b.opts.Replicas, Compression: comp,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardNew,
		MaxAge: 30 * 24 * time.Hour, MaxBytes: b.opts.MaxBytes / 10,
	})
	for _, cfg := range cfgs {
		for {
			actx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := b.js.CreateOrUpdateStream(actx, cfg)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
			}
			b.log.Warn().Err(err).Str("stream", cfg.Name).Msg("stream not ready yet, retrying")
			time.Sleep(250 * time.Millisecond)
		}
	}
	return nil
}

// Partition maps a key (a visitor id, or an event id when there is none)
// to one of n partitions: stable across processes, versions and restarts,
// so every event of a visitor lands in the same partition, in order.
func Partition(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// Connected reports whether the connection is up now.
func (b *Bus) Connected() bool { return b.up.Load() }

// Pending is a publish in flight.
type Pending struct {
	a *pubAck                // Bus.Publish's
	f jetstream.PubAckFuture // PendingOf's
}

// PendingOf wraps a future for a Publisher other than Bus (a test's).
func PendingOf(f jetstream.PubAckFuture) Pending { return Pending{f: f} }

// Wait blocks until JetStream stored the message (nil, also for a
// duplicate), refused it, or ctx ended.
func (p Pending) Wait(ctx context.Context) error {
	if p.a != nil {
		return p.a.wait(ctx)
	}
	select {
	case <-p.f.Ok():
		return nil
	case err := <-p.f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Publish starts an asynchronous publish of one message to partition part
// (0 <= part < Partitions). A non-empty msgID
// becomes Nats-Msg-Id, so JetStream drops a repeat inside the dedup window;
// an empty one adds nothing to the stream's dedup map (whose upkeep, at tens
// of thousands of ids a second, was the collector's worst latency tail).
// data must not be modified afterwards: the client keeps it for retries.
func (b *Bus) Publish(part int, msgID string, data []byte) (Pending, error) {
	if !b.up.Load() {
		return Pending{}, ErrNotConnected
	}
	a, err := b.pub.publish(b.SubjectName(part), msgID, data)
	if err != nil {
		return Pending{}, fmt.Errorf("publishing event: %w", err)
	}
	return Pending{a: a}, nil
}

// Close drains the connection: in-flight publishes and acks complete first.
func (b *Bus) Close() {
	for end := time.Now().Add(5 * time.Second); b.pub.pending() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			b.log.Warn().Int("pending", b.pub.pending()).Msg("closing nats with publishes still pending")
			break
		}
	}
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
	}
	for b.nc.IsDraining() {
		time.Sleep(10 * time.Millisecond)
	}
}

// KeyValue creates or opens the key-value bucket name (file storage, the
// streams' replicas, one value per key), retrying like EnsureStreams.
func (b *Bus) KeyValue(ctx context.Context, name string) (jetstream.KeyValue, error) {
	return b.KeyValueTTL(ctx, name, 0)
}

// Announce publishes data on subject with core NATS (no stream, no ack):
// a notice for whoever listens now, such as a changed short link.
func (b *Bus) Announce(subject string, data []byte) error {
	if err := b.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("announcing on %s: %w", subject, err)
	}
	return nil
}

// Listen calls fn with every message on subject until ctx ends.
func (b *Bus) Listen(ctx context.Context, subject string, fn func(data []byte)) error {
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return fmt.Errorf("listening on %s: %w", subject, err)
	}
	if err := b.nc.FlushTimeout(2 * time.Second); err != nil { // the server has the subscription before Listen returns
		_ = sub.Unsubscribe()
		return fmt.Errorf("listening on %s: %w", subject, err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// KeyValueTTL is KeyValue for a bucket whose entries expire ttl after
// their last write.
func (b *Bus) KeyValueTTL(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	cfg := jetstream.KeyValueConfig{Bucket: name, Storage: jetstream.FileStorage, Replicas: max(b.opts.Replicas, 1), History: 1, TTL: ttl}
	for {
		actx, cancel := context.WithTimeout(ctx, 3*time.Second)
		kv, err := b.js.CreateOrUpdateKeyValue(actx, cfg)
		cancel()
		if err == nil {
			return kv, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("creating key-value bucket %s: %w", name, err)
		}
		b.log.Warn().Err(err).Str("bucket", name).Msg("key-value bucket not ready yet, retrying")
		time.Sleep(250 * time.Millisecond)
	}
}

// PutAll writes values into bucket (keys valid for it) as one pipelined
// burst, an asynchronous publish each, and returns once every one is
// acknowledged: what kv.Put does one round trip at a time.
func (b *Bus) PutAll(ctx context.Context, bucket string, values map[string][]byte) error {
	futures := make([]jetstream.PubAckFuture, 0, len(values))
	for k, v := range values {
		f, err := b.js.PublishAsync("$KV."+bucket+"."+k, v)
		if err != nil {
			return fmt.Errorf("writing %s.%s: %w", bucket, k, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("writing %s: %w", bucket, err)
		case <-ctx.Done():
			return fmt.Errorf("writing %s: %w", bucket, ctx.Err())
		}
	}
	return nil
}

// Package loss measures, as events are stored, the share of a browser's
// messages that never arrived: the SDK numbers each visitor's messages
// (cidx: 1, 2, 3, …), so a gap in what arrives is loss, a repeat a
// duplicate, a lower index after a higher one a late arrival that fills a
// gap. The store sink's Meter counts them per app and hour; each visitor's
// state lives in a NATS key-value bucket, written before the sink acks
// the batch, so it survives restarts and crashes of the sink.
package loss

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoor-dev/spoor/schema"
)

// The buckets: each visitor's state, and each sink process's counts per
// hour.
const (
	VisitorsBucket = "spoor_cidx"
	HoursBucket    = "spoor_loss"
)

// Counts are one app's messages in one hour. Received counts each index
// once (late ones included); Gap the indexes skipped when a higher one
// arrived; Late those of them that arrived afterwards.
type Counts struct {
	Received  int64 `json:"received"`
	Gap       int64 `json:"gap"`
	Late      int64 `json:"late"`
	Duplicate int64 `json:"duplicate"`
}

// Missing is how many messages have not arrived.
func (c Counts) Missing() int64 { return max(c.Gap-c.Late, 0) }

// Expected is how many messages the clients sent, as far as the indexes
// tell (those lost after a visitor's last arrived one leave no gap: a
// lower bound, as in the analytics job).
func (c Counts) Expected() int64 { return c.Received + c.Missing() }

// Share is Missing over Expected; 0 with nothing expected.
func (c Counts) Share() float64 {
	if c.Expected() == 0 {
		return 0
	}
	return float64(c.Missing()) / float64(c.Expected())
}

func (c *Counts) add(o Counts) {
	c.Received += o.Received
	c.Gap += o.Gap
	c.Late += o.Late
	c.Duplicate += o.Duplicate
}

// visitor is one visitor's state: the highest index seen and which of the
// 64 below it arrived (bit k: hi-1-k).
type visitor struct {
	Hi   int64  `json:"hi"`
	Seen uint64 `json:"seen"`
}

// encode is the bucket's value: hi and seen, 8 bytes each, big-endian.
func (v *visitor) encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(v.Hi))
	binary.BigEndian.PutUint64(b[8:], v.Seen)
	return b
}

func (v *visitor) decode(b []byte) {
	if len(b) == 16 {
		v.Hi, v.Seen = int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint64(b[8:])
	}
}

// observe applies one arrival of index i, returning what it was.
func (v *visitor) observe(i int64, redelivered bool) Counts {
	switch {
	case v.Hi == 0: // the first this visitor's state holds; the SDK starts at 1
		v.Hi = i
		return Counts{Received: 1, Gap: max(i-1, 0)}
	case i > v.Hi:
		shift := i - v.Hi
		if shift >= 64 {
			v.Seen = 0
		} else {
			v.Seen = v.Seen<<shift | 1<<(shift-1)
		}
		gap := shift - 1
		v.Hi = i
		return Counts{Received: 1, Gap: gap}
	case i == v.Hi || i >= v.Hi-64 && v.Seen&(1<<(v.Hi-1-i)) != 0:
		if redelivered {
			return Counts{} // the sink's own retry of a batch it had counted, not the client's
		}
		return Counts{Duplicate: 1}
	case i >= v.Hi-64:
		v.Seen |= 1 << (v.Hi - 1 - i)
		return Counts{Received: 1, Late: 1}
	default: // older than the window: taken as late
		return Counts{Received: 1, Late: 1}
	}
}

// Meter counts the stored events' indexes. Observe is safe to call from
// several goroutines.
type Meter struct {
	visitors, hours jetstream.KeyValue
	put             func(ctx context.Context, bucket string, values map[string][]byte) error
	writer          string

	mu       sync.Mutex
	cache    map[string]*visitor // by key(app, visitor); bounded by maxCache
	maxCache int
	counts   map[hourApp]*Counts // this process's, per hour and app
	held     map[string]bool     // the hours whose counts are in counts
	apps     map[string]bool     // the apps with their own series (maxApps)
	metric   *prometheus.CounterVec
}

type hourApp struct{ hour, app string }

// maxApps bounds the metric's series: apps beyond it count as "other".
const maxApps = 200

// NewMeter counts into the two buckets; put writes a burst of values into a
// bucket (bus.PutAll), writer names this process in the hours' keys.
func NewMeter(visitors, hours jetstream.KeyValue, put func(context.Context, string, map[string][]byte) error, writer string,
	maxCache int, reg prometheus.Registerer) (*Meter, error) {
	m := &Meter{visitors: visitors, hours: hours, put: put, writer: writer, cache: map[string]*visitor{}, maxCache: maxCache,
		counts: map[hourApp]*Counts{}, held: map[string]bool{}, apps: map[string]bool{},
		metric: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_client_messages_total",
			Help: "Browser messages by their client index (cidx), per app: received (each index once), gap (indexes skipped when a higher one arrived), late (of those, arrived afterwards), duplicate. Missing = gap - late."},
			[]string{"app", "outcome"})}
	if err := reg.Register(m.metric); err != nil {
		return nil, fmt.Errorf("registering the loss meter: %w", err)
	}
	return m, nil
}

// arrival is one stored event with an index.
type arrival struct {
	key, app, hour string
	idx            int64
	redelivered    bool
}

// Observe counts the events a store has just written, before their
// messages are acked: it reads the visitors' states it does not hold,
// applies the arrivals, and writes the states and this hour's counts back.
// redelivered[i] tells that events[i]'s message came again (a retry).
func (m *Meter) Observe(ctx context.Context, events []*schema.Event, redelivered []bool) error {
	var arrivals []arrival
	for i, e := range events {
		app, vid, idx, has := indexOf(e)
		if !has || vid == "" || idx <= 0 {
			continue
		}
		arrivals = append(arrivals, arrival{key: Key(app, vid), app: app, hour: e.ReceivedAt.UTC().Format("2006010215"), idx: idx,
			redelivered: i < len(redelivered) && redelivered[i]})
	}
	if len(arrivals) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(ctx, arrivals); err != nil {
		return err
	}
	for _, a := range arrivals {
		if err := m.hold(ctx, a.hour); err != nil {
			return err
		}
	}
	dirty := map[string][]byte{}
	hours := map[string]bool{}
	for _, a := range arrivals {
		v := m.cache[a.key]
		c := v.observe(a.idx, a.redelivered)
		k := hourApp{a.hour, a.app}
		if m.counts[k] == nil {
			m.counts[k] = &Counts{}
		}
		m.counts[k].add(c)
		hours[a.hour] = true
		dirty[a.key] = v.encode()
		m.count(a.app, c)
	}
	if err := m.put(ctx, VisitorsBucket, dirty); err != nil {
		return err
	}
	vals := map[string][]byte{}
	for h := range hours {
		byApp := map[string]Counts{}
		for k, c := range m.counts {
			if k.hour == h {
				byApp[k.app] = *c
			}
		}
		b, _ := json.Marshal(byApp)
		vals[h+"."+m.writer] = b
	}
	m.forgetOldHours()
	m.trim()
	return m.put(ctx, HoursBucket, vals)
}

// load reads into the cache the states of the arrivals' visitors it does
// not hold, 16 at a time.
func (m *Meter) load(ctx context.Context, arrivals []arrival) error {
	var keys []string
	for _, a := range arrivals {
		if _, ok := m.cache[a.key]; !ok {
			m.cache[a.key] = nil
			keys = append(keys, a.key)
		}
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, k := range keys {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			v := &visitor{}
			e, err := m.visitors.Get(ctx, k)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
			case err != nil:
				mu.Lock()
				firstErr = cmpErr(firstErr, fmt.Errorf("reading visitor state: %w", err))
				mu.Unlock()
			default:
				v.decode(e.Value())
			}
			mu.Lock()
			m.cache[k] = v
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		for _, k := range keys {
			delete(m.cache, k) // not known: read again next time
		}
	}
	return firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// trim keeps the cache under maxCache: any entry may go (its state is in
// the bucket).
func (m *Meter) trim() {
	for k := range m.cache {
		if len(m.cache) <= m.maxCache {
			return
		}
		delete(m.cache, k)
	}
}

// hold reads this process's counts of hour from the bucket unless it holds
// them (an hour it let go, that a late event came back to).
func (m *Meter) hold(ctx context.Context, hour string) error {
	if m.held[hour] {
		return nil
	}
	e, err := m.hours.Get(ctx, hour+"."+m.writer)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return fmt.Errorf("reading the hour's counts: %w", err)
	default:
		var byApp map[string]Counts
		_ = json.Unmarshal(e.Value(), &byApp)
		for app, c := range byApp {
			m.counts[hourApp{hour, app}] = &c
		}
	}
	m.held[hour] = true
	return nil
}

// forgetOldHours lets go of the counts of hours more than two hours old
// (they are in the bucket).
func (m *Meter) forgetOldHours() {
	cut := time.Now().UTC().Add(-2 * time.Hour).Format("2006010215")
	for k := range m.counts {
		if k.hour < cut {
			delete(m.counts, k)
		}
	}
	for h := range m.held {
		if h < cut {
			delete(m.held, h)
		}
	}
}

func (m *Meter) count(app string, c Counts) {
	if !m.apps[app] {
		if len(m.apps) >= maxApps {
			app = "other"
		} else {
			m.apps[app] = true
		}
	}
	for _, o := range []struct {
		name string
		n    int64
	}{{"received", c.Received}, {"gap", c.Gap}, {"late", c.Late}, {"duplicate", c.Duplicate}} {
		if o.n > 0 {
			m.metric.WithLabelValues(app, o.name).Add(float64(o.n))
		}
	}
}

// Key is a visitor's key in the visitors' bucket.
func Key(app, visitorID string) string {
	h := sha256.Sum256([]byte(app + "\x00" + visitorID))
	return hex.EncodeToString(h[:16])
}

// indexOf reads what the meter needs of e: decoded fields, or, for an
// event a raw store's worker read only the head of, from its bytes.
func indexOf(e *schema.Event) (app, visitor string, idx int64, has bool) {
	if e.ClientIndex != nil {
		return e.App, e.VisitorID, *e.ClientIndex, true
	}
	if e.App != "" || e.VisitorID != "" || len(e.Raw) == 0 {
		return "", "", 0, false // decoded, and no index
	}
	app, visitor, idx, has, ok := schema.ClientIndexOf(e.Raw)
	if ok {
		return app, visitor, idx, has
	}
	full, err := schema.Decode(e.Raw)
	if err != nil || full.ClientIndex == nil {
		return "", "", 0, false
	}
	return full.App, full.VisitorID, *full.ClientIndex, true
}

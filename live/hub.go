package live

import (
	"bytes"
	"context"
	"github.com/spoor-dev/spoor/schema"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Source is where the events come from (bus.Bus.Tail): every message the
// stream acknowledged from now on, or since ago; ready is called once
// messages published from then on are delivered.
type Source interface {
	Tail(ctx context.Context, since time.Duration, fn func(data []byte), ready func()) error
}

// Rate is one second's events: all of them, by event name and by
// endpoint, whatever the viewers' filters.
type Rate struct {
	At      time.Time      `json:"at"`
	Total   int            `json:"total"`
	ByEvent map[string]int `json:"by_event"`
	// Canary counts the canary's events (spoor canary), left out of the rest.
	Canary     int            `json:"canary"`
	ByEndpoint map[string]int `json:"by_endpoint"`
}

// Item is what a viewer receives: an event (its canonical JSON) or a
// second's rate.
type Item struct {
	Event []byte
	Rate  *Rate
}

// Hub fans one stream subscription out to every viewer. The subscription
// runs only while someone watches; each event is decoded once, whatever
// the number of viewers; a viewer too slow to keep up loses events (never
// the stream) and is told how many.
type Hub struct {
	src Source
	log zerolog.Logger

	mu     sync.Mutex
	subs   map[*Sub]struct{}
	cancel context.CancelFunc
	done   chan struct{}
	ready  chan struct{} // closed once the running subscription delivers
	rate   Rate
}

// NewHub returns a hub on src; nothing runs until the first Subscribe.
func NewHub(src Source, log zerolog.Logger) *Hub {
	return &Hub{src: src, log: log, subs: map[*Sub]struct{}{}}
}

// Sub is one viewer.
type Sub struct {
	C      <-chan Item
	Ready  <-chan struct{} // closed once the stream delivers to this viewer
	c      chan Item
	filter Filter
	rates  bool
	max    int // events per second; 0: no limit
	sent   int // this second
	// Dropped counts events the viewer missed: too slow, or over max.
	Dropped atomic.Int64
}

// Subscribe adds a viewer of the events f matches (at most max a second,
// 0: all, below 0: none), and of each second's rates when rates is set.
// Sub.Ready closes once events published from then on reach the viewer
// (never while NATS cannot be reached; the hub keeps trying).
func (h *Hub) Subscribe(f Filter, rates bool, max int) *Sub {
	s := &Sub{c: make(chan Item, 1024), filter: f, rates: rates, max: max}
	s.C = s.c
	h.mu.Lock()
	h.subs[s] = struct{}{}
	if h.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel, h.done, h.ready = cancel, make(chan struct{}), make(chan struct{})
		h.rate = newRate()
		go h.run(ctx, h.done, h.ready)
	}
	s.Ready = h.ready
	h.mu.Unlock()
	return s
}

// Unsubscribe removes a viewer; the last one stops the subscription.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	delete(h.subs, s)
	var done chan struct{}
	if len(h.subs) == 0 && h.cancel != nil {
		h.cancel()
		h.cancel, done = nil, h.done
	}
	h.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Viewers is the number of subscribed viewers.
func (h *Hub) Viewers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func newRate() Rate {
	return Rate{At: time.Now().Truncate(time.Second), ByEvent: map[string]int{}, ByEndpoint: map[string]int{}}
}

// run follows the stream (again after a failure: NATS down) and ticks the
// rates every second, until ctx ends.
func (h *Hub) run(ctx context.Context, done, ready chan struct{}) {
	defer close(done)
	var once sync.Once
	markReady := func() { once.Do(func() { close(ready) }) }
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				h.tick()
			}
		}
	}()
	for ctx.Err() == nil {
		if err := h.src.Tail(ctx, 0, h.deliver, markReady); err != nil {
			h.log.Warn().Err(err).Msg("live view: following the stream failed; retrying")
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// tick sends the finished second's rate to the viewers that want it.
func (h *Hub) tick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rate
	h.rate = newRate()
	for s := range h.subs {
		s.sent = 0
		if s.rates {
			s.send(Item{Rate: &r})
		}
	}
}

func (s *Sub) send(it Item) {
	select {
	case s.c <- it:
	default:
		s.Dropped.Add(1)
	}
}

// deliver handles one stream message: one or more event lines, peeked at,
// not decoded (FieldsOf).
func (h *Hub) deliver(data []byte) {
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		e, err := FieldsOf(line)
		if err != nil {
			continue
		}
		h.mu.Lock()
		if schema.IsCanaryEncoded(line) { // the canary's: in the tail, not in the rates
			h.rate.Canary++
		} else {
			h.rate.Total++
			h.rate.ByEvent[e.Event]++
			h.rate.ByEndpoint[e.Endpoint]++
		}
		for s := range h.subs {
			if s.max < 0 || !s.filter.MatchFields(e) {
				continue
			}
			if s.max > 0 && s.sent >= s.max {
				s.Dropped.Add(1)
				continue
			}
			s.sent++
			s.send(Item{Event: line})
		}
		h.mu.Unlock()
	}
}

// Top returns the n largest counts of m, largest first (ties by name).
func Top(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if m[keys[a]] != m[keys[b]] {
			return m[keys[a]] > m[keys[b]]
		}
		return keys[a] < keys[b]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

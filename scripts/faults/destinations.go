package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The destinations of the cluster (scripts/cluster.sh with
// CLUSTER_DESTINATIONS=1: dest1 delivers to a webhook, this runner's
// receiver, and to the Kafka topic spoor-faults). Every fault run then
// also reconciles each destination: every answered event delivered at
// least once (a duplicate is a retry the idempotency key reveals, counted,
// not a failure), and each visitor's events in the stream's order.

// destResult is one destination's reconciliation.
type destResult struct {
	Name       string
	Delivered  int // distinct answered events that arrived
	Duplicates int // arrivals beyond the first of an event (retries)
	Lost       int // answered 2xx, stored, never delivered
	OutOfOrder int // visitors whose first arrivals are not in the stream's order
}

// arrival is one event as a destination received it.
type arrival struct {
	tag     int64
	visitor string
}

// receiver is the webhook's far end: it records every event's tag and
// visitor, per app, and answers 503 while down.
type receiver struct {
	down atomic.Bool
	mu   sync.Mutex
	got  map[string][]arrival // by app
}

func startReceiver(addr string) (*receiver, error) {
	r := &receiver{got: map[string][]arrival{}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the destinations' receiver on %s: %w", addr, err)
	}
	go http.Serve(ln, http.HandlerFunc(r.serve)) //nolint:errcheck // lives as long as the runner
	return r, nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.down.Load() {
		http.Error(w, "down for the fault", http.StatusServiceUnavailable)
		return
	}
	var b struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, raw := range b.Events {
		if e, err := schema.Decode(raw); err == nil {
			if t, ok := tagOf(e); ok {
				r.got[e.App] = append(r.got[e.App], arrival{t, e.VisitorID})
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) arrivals(app string) []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]arrival(nil), r.got[app]...)
}

// kafkaArrivals reads the topic from its start: the records of app.
func kafkaArrivals(ctx context.Context, brokers []string, topic, app string) ([]arrival, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []arrival
	quiet := time.Now()
	for time.Since(quiet) < 3*time.Second {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		f := cl.PollFetches(fctx)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		n := 0
		f.EachRecord(func(rec *kgo.Record) {
			n++
			if !hasHeader(rec, "app", app) || rec.Value == nil {
				return
			}
			if e, err := schema.Decode(rec.Value); err == nil {
				if t, ok := tagOf(e); ok {
					out = append(out, arrival{t, e.VisitorID})
				}
			}
		})
		if n > 0 {
			quiet = time.Now()
		}
	}
	return out, nil
}

func hasHeader(r *kgo.Record, k, v string) bool {
	for _, h := range r.Headers {
		if h.Key == k && bytes.Equal(h.Value, []byte(v)) {
			return true
		}
	}
	return false
}

// streamOrder is each visitor's tags in the order the stream holds them
// (what the destinations must keep), for the events of app received since.
func (r *runner) streamOrder(ctx context.Context, app string, since time.Time) (map[string][]int64, error) {
	order := map[string][]int64{}
	seen := map[int64]bool{}
	err := r.bus.ReadSince(ctx, since.Add(-time.Second), func(data []byte) error {
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			e, err := schema.Decode(line)
			if err != nil || e.App != app {
				continue
			}
			if t, ok := tagOf(e); ok && !seen[t] {
				seen[t] = true
				order[e.VisitorID] = append(order[e.VisitorID], t)
			}
		}
		return nil
	})
	return order, err
}

// reconcileDestination counts one destination's arrivals against the
// answered events (status: tag → HTTP status) and the stream's order.
func reconcileDestination(name string, got []arrival, status map[int64]int, stored map[int64]bool, order map[string][]int64) destResult {
	d := destResult{Name: name}
	count := map[int64]int{}
	var first []arrival
	for _, a := range got {
		if count[a.tag] == 0 {
			first = append(first, a)
		}
		count[a.tag]++
	}
	for t, code := range status {
		n := count[t]
		if n > 0 {
			d.Delivered++
			d.Duplicates += n - 1
		} else if code/100 == 2 && stored[t] {
			d.Lost++
		}
	}
	pos := map[int64]int{}
	for i, a := range first {
		pos[a.tag] = i
	}
	for _, tags := range order {
		last := -1
		for _, t := range tags {
			p, ok := pos[t]
			if !ok {
				continue
			}
			if p < last {
				d.OutOfOrder++
				break
			}
			last = p
		}
	}
	return d
}

// reconcileDestinations fills res.Dest when the cluster runs destinations.
func (r *runner) reconcileDestinations(res *result, status map[int64]int, stored map[int64]bool, since time.Time) error {
	if r.recv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var order map[string][]int64
	var err error
	for try := 0; try < 5; try++ { // a read right after a fault may find no responder yet
		if order, err = r.streamOrder(ctx, res.App, since); err == nil {
			break
		}
		r.logf("reading the stream's order: %v; retrying", err)
		sleepCtx(ctx, 3*time.Second)
	}
	if err != nil {
		return fmt.Errorf("reading the stream's order: %w", err)
	}
	res.Dest = append(res.Dest, reconcileDestination("webhook", r.recv.arrivals(res.App), status, stored, order))
	k, err := kafkaArrivals(ctx, r.kafka, "spoor-faults", res.App)
	if err != nil {
		return fmt.Errorf("reading the Kafka topic: %w", err)
	}
	res.Dest = append(res.Dest, reconcileDestination("kafka", k, status, stored, order))
	return nil
}

// destConsumers are the destinations' durable consumers, whose backlogs
// the drain waits for too.
var destConsumers = []string{"spoor-dest-hooks", "spoor-dest-stream"}

func destWebhookDown(ctx context.Context, r *runner) (time.Time, string, error) {
	if r.recv == nil {
		return time.Time{}, "", errNoDestinations
	}
	r.logf("the webhook's receiver answers 503 for %s", r.destOutage)
	r.recv.down.Store(true)
	sleepCtx(ctx, r.destOutage)
	r.recv.down.Store(false)
	r.logf("the webhook's receiver answers again")
	return time.Now(), fmt.Sprintf("503 for %s", r.destOutage), nil
}

func kafkaKill(ctx context.Context, r *runner) (time.Time, string, error) {
	if r.recv == nil {
		return time.Time{}, "", errNoDestinations
	}
	r.logf("kill -9 the Kafka broker")
	if err := r.member("down", "kafka", "KILL"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, 30*time.Second)
	r.logf("restarting the Kafka broker")
	if err := r.member("up", "kafka"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), "killed the broker for 30 s", nil
}

func destSinkKill(ctx context.Context, r *runner) (time.Time, string, error) {
	if r.recv == nil {
		return time.Time{}, "", errNoDestinations
	}
	pending, err := waitUnacked(func() ([]busState, error) { return r.states("spoor-dest-hooks") }, 15*time.Second, 50*time.Millisecond)
	if err != nil {
		return time.Time{}, "", err
	}
	r.logf("kill -9 dest1 with %d messages delivered to it and not yet acknowledged", pending)
	if err := r.member("down", "dest1", "KILL"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, 5*time.Second)
	if err := r.member("up", "dest1"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), strconv.Itoa(pending) + " messages unacked at the kill", nil
}

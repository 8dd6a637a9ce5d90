package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// result is one fault's reconciliation.
type result struct {
	Date, Fault, What, App, Note, Error string
	Rate                                float64 // offered events/s

	MinAnswered      float64        // the share of sent events that must be answered 2xx (the fault's allowance)
	Sent             int            // events sent
	Answered         int            // events answered 2xx
	Stored           int            // distinct events in Cassandra
	Duplicated       int            // rows beyond the first of an event
	Lost             int            // answered 2xx, neither stored nor dead-lettered
	DeadLettered     int            // in the dead letters with a reason
	StoredUnanswered int            // stored although the answer was not 2xx (client would retry)
	Codes            map[int]int    // requests by status (0: no answer)
	Reasons          map[string]int // non-2xx answers and transport errors
	DeadReasons      map[string]int

	IngestRate   float64 // answered events/s over the load
	BacklogPeak  int     // messages pending or unacknowledged at the consumer, at most
	SpoolPeak    int     // messages in the collectors' spools, at most
	DrainRate    float64 // events stored per second from recovery until the backlog was gone
	DrainSeconds float64
	P50ms, P99ms float64 // the collectors' answer times, answered requests, the whole run
	P99Limit     float64 // ms; when set, P99ms over it fails the run (collector.ack_timeout plus a spool fsync)
	NoRetryAfter int     // 503 answers without Retry-After

	Dest []destResult // each destination's reconciliation (a cluster with destinations)
}

func (r result) ok() bool { return len(r.failures()) == 0 }

// failures says why the run fails, if it does. The load sends only valid
// events, so a run passes only when it accepted traffic (nothing answered
// proves nothing), answered at least the share its fault allows, and
// stored every answered event exactly once: a dead letter is a sink giving
// up on good data.
func (r result) failures() []string {
	var out []string
	if r.Error != "" {
		out = append(out, "error: "+r.Error)
	}
	switch {
	case r.Sent == 0:
		out = append(out, "nothing was sent")
	case r.Answered == 0:
		out = append(out, "nothing was answered 2xx")
	case r.answeredShare() < r.MinAnswered:
		out = append(out, fmt.Sprintf("answered %s of the events, the fault allows no less than %s", pct(r.answeredShare()), pct(r.MinAnswered)))
	}
	if r.Lost > 0 {
		out = append(out, fmt.Sprintf("%d lost", r.Lost))
	}
	if r.Duplicated > 0 {
		out = append(out, fmt.Sprintf("%d duplicated", r.Duplicated))
	}
	if r.DeadLettered > 0 {
		out = append(out, fmt.Sprintf("%d dead-lettered", r.DeadLettered))
	}
	for _, d := range r.Dest {
		if d.Lost > 0 {
			out = append(out, fmt.Sprintf("%s: %d never delivered", d.Name, d.Lost))
		}
		if d.OutOfOrder > 0 {
			out = append(out, fmt.Sprintf("%s: %d visitors' events out of order", d.Name, d.OutOfOrder))
		}
	}
	if r.NoRetryAfter > 0 {
		out = append(out, fmt.Sprintf("%d answers 503 without Retry-After", r.NoRetryAfter))
	}
	for c, n := range r.Codes {
		if c/100 == 5 && c != 503 {
			out = append(out, fmt.Sprintf("%d answers %d (only 503 may say: not stored, retry)", n, c))
		}
	}
	if r.P99Limit > 0 && r.P99ms > r.P99Limit {
		out = append(out, fmt.Sprintf("collector p99 %.0f ms over %.0f ms", r.P99ms, r.P99Limit))
	}
	if r.Fault == "collector-term" && r.Codes[0] > 0 { // requests in flight at SIGTERM are answered
		out = append(out, fmt.Sprintf("%d requests unanswered at SIGTERM", r.Codes[0]))
	}
	return out
}

func (r result) answeredShare() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.Answered) / float64(r.Sent)
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

func (r result) summary() string {
	return fmt.Sprintf("sent %d, answered 2xx %d (%s, at least %s allowed), stored %d, duplicated %d, lost %d, dead-lettered %d; ingest %.0f ev/s, drain %s%s",
		r.Sent, r.Answered, pct(r.answeredShare()), pct(r.MinAnswered), r.Stored, r.Duplicated, r.Lost, r.DeadLettered, r.IngestRate, r.drain(), r.destinations())
}

func (r result) drain() string {
	if r.DrainSeconds == 0 {
		return "no backlog"
	}
	if r.DrainRate == 0 {
		return fmt.Sprintf("drained within %.0f s", math.Ceil(r.DrainSeconds))
	}
	return fmt.Sprintf("%.0f ev/s (%.1f× ingest) over %.0f s", r.DrainRate, r.DrainRate/r.IngestRate, r.DrainSeconds)
}

// reconcile reads the run's events back from events_by_day (every
// (app, day, bucket) partition of the days the run spans) and the dead
// letters, and counts each tag.
func (r *runner) reconcile(res *result, status map[int64]int, since time.Time) (map[int64]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stored := map[int64]int{}
	// An hour past now: a collector whose clock runs ahead (collector-clock-ahead) stamps tomorrow early.
	for day := cassandra.Day(since); !day.After(time.Now().UTC().Add(time.Hour)); day = day.AddDate(0, 0, 1) {
		evs, err := cassandra.ReadDay(ctx, r.session, r.cfg.Cassandra.Keyspace, res.App, day)
		if err != nil {
			return nil, fmt.Errorf("reading back %s: %w", res.App, err)
		}
		for _, e := range evs {
			if t, ok := tagOf(e); ok {
				stored[t]++
			}
		}
	}
	dead := map[int64]string{}
	dl, err := r.bus.DeadLetters(ctx, 10_000_000)
	if err != nil {
		return nil, fmt.Errorf("reading dead letters: %w", err)
	}
	res.DeadReasons = map[string]int{}
	for _, m := range dl {
		e, err := schema.Decode(m.Data)
		if err != nil || e.App != res.App {
			continue
		}
		if t, ok := tagOf(e); ok {
			dead[t] = m.Reason
			res.DeadReasons[m.Reason]++
		}
	}
	kept := map[int64]bool{}
	for t, code := range status {
		n := stored[t]
		kept[t] = n > 0
		if n > 0 {
			res.Stored++
			res.Duplicated += n - 1
		}
		if _, ok := dead[t]; ok {
			res.DeadLettered++
		}
		switch {
		case code/100 == 2 && n == 0 && dead[t] == "":
			res.Lost++
		case code/100 != 2 && n > 0:
			res.StoredUnanswered++
		}
	}
	return kept, nil
}

func tagOf(e *schema.Event) (int64, bool) {
	raw, ok := e.Props["ftag"]
	if !ok {
		return 0, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// backlog is one sample of what waits between the collectors and the store.
type backlog struct {
	at     time.Time
	msgs   int    // pending + unacknowledged at the durable consumer, all partitions
	spool  int    // events in the collectors' spools
	acked  uint64 // the consumer's ack floors, summed over the partitions: messages acknowledged
	stored uint64 // the streams' last sequences, summed: messages ever stored
	busOK  bool   // the bus answered
}

func (b backlog) total() int {
	if !b.busOK {
		return -1
	}
	return b.msgs + b.spool
}

// sampler records the backlog every second (from the NATS server's own
// view of the streams and the consumer, and the collectors' spool gauges).
type sampler struct {
	r   *runner
	app string
	mu  sync.Mutex
	s   []backlog
	rt  time.Time // recovery
}

func newSampler(r *runner, app string) *sampler { return &sampler{r: r, app: app} }

func (s *sampler) recovered(at time.Time) {
	s.mu.Lock()
	s.rt = at
	s.mu.Unlock()
}

func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		b := backlog{at: time.Now()}
		if st, err := s.r.states(s.r.cfg.Sink.Consumer); err == nil {
			b.busOK = true
			for _, p := range st {
				b.msgs += int(p.Pending) + p.AckWait
				b.acked += p.AckFloor
				b.stored += p.LastSeq
			}
		}
		if s.r.recv != nil && b.busOK { // the destinations' backlogs drain too
			for _, c := range destConsumers {
				if st, err := s.r.states(c); err == nil {
					for _, p := range st {
						b.msgs += int(p.Pending) + p.AckWait
					}
				} else {
					b.busOK = false
				}
			}
		}
		b.spool = s.r.spooled()
		s.mu.Lock()
		s.s = append(s.s, b)
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sampler) last() (backlog, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.s) == 0 {
		return backlog{}, false
	}
	return s.s[len(s.s)-1], s.s[len(s.s)-1].busOK
}

// peak is the largest backlog seen so far (messages and spooled events).
func (s *sampler) peak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := 0
	for _, b := range s.s {
		p = max(p, b.total())
	}
	return p
}

func (s *sampler) peakMsgs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := 0
	for _, b := range s.s {
		p = max(p, b.msgs)
	}
	return p
}

func (s *sampler) peakSpool() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := 0
	for _, b := range s.s {
		p = max(p, b.spool)
	}
	return p
}

type drainFigure struct{ rate, seconds float64 }

// minDrainWindow: a backlog gone sooner gives no meaningful rate.
const minDrainWindow = 5

// drain is how fast the sinks worked through the backlog the fault built:
// from recovery until the backlog was back to what steady load keeps in
// flight (baseline), the messages the consumer acknowledged per second
// (its ack floors, as the NATS server reports them), in events at the
// run's events per message (answered events ÷ messages stored in the run).
func (s *sampler) drain(baseline int, events int) drainFigure {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rt.IsZero() || len(s.s) == 0 {
		return drainFigure{}
	}
	limit := max(baseline, 20)
	grew := false
	var from, end *backlog
	for i := range s.s {
		b := &s.s[i]
		if b.busOK && !b.at.Before(s.rt) && from == nil {
			from = b
		}
		if b.total() > limit || !b.busOK {
			grew = true
			continue
		}
		if !b.at.Before(s.rt) {
			end = b
			break
		}
	}
	if !grew || end == nil || from == nil {
		return drainFigure{}
	}
	secs := end.at.Sub(s.rt).Seconds()
	var first, last *backlog // the run's first and last answered samples, for events per message
	for i := range s.s {
		if s.s[i].busOK {
			if first == nil {
				first = &s.s[i]
			}
			last = &s.s[i]
		}
	}
	window := end.at.Sub(from.at).Seconds()
	if secs < minDrainWindow || window < minDrainWindow || last.stored <= first.stored {
		return drainFigure{seconds: secs}
	}
	perMsg := float64(events) / float64(last.stored-first.stored)
	return drainFigure{rate: float64(end.acked-from.acked) / window * perMsg, seconds: secs}
}

// spooled sums spoor_spool_records over the collectors that answer.
func (r *runner) spooled() int {
	total := 0
	c := &http.Client{Timeout: time.Second}
	for _, base := range r.collectors {
		res, err := c.Get(base + "/metrics")
		if err != nil {
			continue
		}
		total += metric(res.Body, "spoor_spool_records")
		res.Body.Close()
	}
	return total
}

func metric(body io.Reader, name string) int {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int(f)
		}
	}
	return 0
}

// destinations summarizes the destinations' reconciliation.
func (r result) destinations() string {
	out := ""
	for _, d := range r.Dest {
		out += fmt.Sprintf("; %s: %d delivered, %d retried twice or more, %d never, %d visitors out of order", d.Name, d.Delivered, d.Duplicates, d.Lost, d.OutOfOrder)
	}
	return out
}

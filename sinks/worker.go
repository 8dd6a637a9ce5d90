package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
	"golang.org/x/time/rate"
)

// Source hands out messages of the durable consumer (bus.Consumer).
type Source interface {
	// Fetch returns up to n messages, waiting at most wait.
	Fetch(n int, wait time.Duration) ([]*bus.Msg, error)
}

// DeadLetterer keeps poison messages with their reason (bus.Bus).
type DeadLetterer interface {
	// DeadLetter stores data, the line-th event of msg, with the reason;
	// it returns nil once the copy is durably stored.
	DeadLetter(ctx context.Context, msg *bus.Msg, line int, data []byte, consumer, reason string) error
}

// WorkerOptions tunes batching, pacing and retries.
type WorkerOptions struct {
	Consumer     string          // durable name, for dead-letter headers
	BatchSize    int             // messages per Write at most
	BatchWait    time.Duration   // how long to wait to fill a batch
	RateLimit    float64         // events written per second; 0 = unlimited
	Backoff      []time.Duration // retry delay per delivery
	WriteTimeout time.Duration   // one Write's deadline
	AckWait      time.Duration   // the consumer's; a held batch is kept in progress well within it
	// Delivery makes the worker a destination's (delivery.go); nil: a
	// store's.
	Delivery *DeliveryOptions
	// Metrics names a store's metrics: "" is spoor_sink_*, "failed" the
	// failed events' store's spoor_failed_store_*.
	Metrics string
	// Observer sees the events a store wrote before their messages are
	// acked (the loss meter); nil: none.
	Observer Observer
}

// Observer is told of every event a store wrote, before its message is
// acked; redelivered[i] says events[i]'s message came more than once. An
// error is logged and changes no verdict: what it measures is not the
// event.
type Observer interface {
	Observe(ctx context.Context, events []*schema.Event, redelivered []bool) error
}

// Worker pulls batches and writes them to a Sink.
type Worker struct {
	sink    Sink
	src     Source
	dlq     DeadLetterer
	opts    WorkerOptions
	limiter *rate.Limiter
	log     zerolog.Logger
	m       *workerMetrics
	order   order     // a destination's per-visitor order
	gone    Forgotten // a destination's forgotten people (DeliveryOptions.Forgotten)
}

type workerMetrics struct {
	verdicts *prometheus.CounterVec
	dead     prometheus.Counter
	batch    prometheus.Histogram
	write    prometheus.Histogram
	held     prometheus.Counter
	holding  prometheus.Gauge
	stored   prometheus.Counter
	skipped  *prometheus.CounterVec // a destination's events left out, by reason
}

// newWorkerMetrics names a store's metrics spoor_sink_*, a destination's
// spoor_destination_* with its name as the label destination.
func newWorkerMetrics(reg prometheus.Registerer, d *DeliveryOptions, name string) *workerMetrics {
	prefix, labels, what := "spoor_sink_", prometheus.Labels(nil), "the store"
	if name == "failed" {
		prefix, what = "spoor_failed_store_", "the failed events' store"
	}
	stored, storedHelp := "events_stored_total", "Events whose message was acknowledged after the store took them (a redelivery counts again)."
	down := "store_down"
	if d != nil {
		prefix, labels, what = "spoor_destination_", prometheus.Labels{"destination": d.Destination}, "the destination"
		stored, storedHelp = "events_delivered_total", "Events the destination took (a redelivery counts again)."
		down = "down"
	}
	m := &workerMetrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + "messages_total", ConstLabels: labels,
			Help: "Messages by verdict: ack, retry, dead_letter (a message holds one or more events)."}, []string{"verdict"}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "dead_letters_total", ConstLabels: labels,
			Help: "Events copied to the dead-letter stream with their reason."}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: prefix + "batch_size", ConstLabels: labels,
			Help: "Messages per fetched batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		write: prometheus.NewHistogram(prometheus.HistogramOpts{Name: prefix + "write_seconds", ConstLabels: labels,
			Help: "Time of one write to " + what + ".", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		held: prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "write_retries_total", ConstLabels: labels,
			Help: "Writes of a held batch retried in place because " + what + " refused all of it."}),
		holding: prometheus.NewGauge(prometheus.GaugeOpts{Name: prefix + down, ConstLabels: labels,
			Help: "1 while the worker holds a batch " + what + " refused whole, retrying it until it is back."}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + stored, ConstLabels: labels, Help: storedHelp}),
	}
	cs := []prometheus.Collector{m.verdicts, m.dead, m.batch, m.write, m.held, m.holding, m.stored}
	if d != nil {
		m.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + "events_skipped_total", ConstLabels: labels,
			Help: "Events that did not go, by reason: filter, consent, bot, forgotten."}, []string{"reason"})
		cs = append(cs, m.skipped)
	}
	reg.MustRegister(cs...)
	return m
}

// NewWorker builds a worker; reg receives its metrics.
func NewWorker(sink Sink, src Source, dlq DeadLetterer, opts WorkerOptions, reg prometheus.Registerer, log zerolog.Logger) *Worker {
	m := newWorkerMetrics(reg, opts.Delivery, opts.Metrics)
	w := &Worker{sink: sink, src: src, dlq: dlq, opts: opts, log: log, m: m}
	if opts.RateLimit > 0 {
		w.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), max(opts.BatchSize, int(opts.RateLimit)))
	}
	return w
}

// Run processes batches until ctx ends, then finishes the batch in hand
// and returns. The Sink must already be open.
func (w *Worker) Run(ctx context.Context) error {
	w.awaitEarlierDeliveries(ctx)
	for ctx.Err() == nil {
		msgs, err := w.src.Fetch(w.opts.BatchSize, w.opts.BatchWait)
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				w.log.Warn().Err(err).Msg("fetch failed; retrying")
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		w.m.batch.Observe(float64(len(msgs)))
		w.process(ctx, msgs)
	}
	return nil
}

// Pending is a Source that can tell how many of its messages were
// delivered and not yet acknowledged (bus.Consumer).
type Pending interface {
	AckPending(ctx context.Context) (int, error)
}

// awaitEarlierDeliveries keeps a destination's visitors in order across a
// restart: messages delivered to the previous process (killed before it
// settled them) come back only after ack_wait, and fetching at once would
// send a visitor's newer events before them. So a destination whose
// consumer has messages pending waits ack_wait first; JetStream then hands
// out the redeliveries before anything newer.
func (w *Worker) awaitEarlierDeliveries(ctx context.Context) {
	p, ok := w.src.(Pending)
	if w.opts.Delivery == nil || !ok || w.opts.AckWait <= 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	n, err := p.AckPending(actx)
	cancel()
	if err != nil {
		w.log.Warn().Err(err).Msg("cannot tell whether messages are pending; waiting ack_wait to keep each visitor's order")
	} else if n == 0 {
		return
	}
	w.log.Info().Int("pending", n).Dur("ack_wait", w.opts.AckWait).
		Msg("messages delivered before this start are not settled: waiting for their redelivery, so each visitor's order holds")
	_ = sleep(ctx, w.opts.AckWait)
}

// item is one event line of a message and its write result.
type item struct {
	data []byte
	err  error
	ev   *schema.Event // decoded (a destination's: for its visitor's order)
	skip bool          // left out by a destination's filter: acknowledged unsent
}

// process writes the events of a batch of messages (each message holds one
// or more events, one per line) and settles every message. It finishes the
// batch in hand when ctx ends (bounded by WriteTimeout), except that a
// batch held through a store outage (hold) is given back at once.
func (w *Worker) process(ctx context.Context, msgs []*bus.Msg) {
	decode := schema.Decode
	if _, ok := w.sink.(RawSink); ok && w.opts.Delivery == nil {
		decode = schema.DecodeHead
	}
	if err := w.refreshForgotten(ctx); err != nil {
		w.log.Warn().Err(err).Msg("cannot read the forgotten people: nothing is sent until it can")
		lo, _ := w.opts.Delivery.bounds()
		for _, m := range msgs {
			_ = m.Nak(lo)
		}
		w.m.verdicts.WithLabelValues(Retry.String()).Add(float64(len(msgs)))
		return
	}
	items := make([][]item, len(msgs))
	var events []*schema.Event
	var owner [][2]int // events[k] is items[owner[k][0]][owner[k][1]]
	for i, m := range msgs {
		lines := bytes.Split(m.Data(), []byte{'\n'})
		items[i] = make([]item, len(lines))
		for j, line := range lines {
			items[i][j].data = line
			e, err := decode(line)
			if err != nil {
				items[i][j].err = Permanent(err)
				continue
			}
			if d := w.opts.Delivery; d != nil {
				items[i][j].ev = e
				if !w.gone.Empty() && w.gone.Has(e.App, e.VisitorID, e.UserID) {
					w.m.skipped.WithLabelValues("forgotten").Inc()
					items[i][j].skip = true
					continue
				}
				if ok, why := d.Keep(e); !ok {
					w.m.skipped.WithLabelValues(why).Inc()
					items[i][j].skip = true
					if e.IsCanary() && d.Seen != nil {
						d.Seen(e, "left_out")
					}
					continue
				}
				if w.order.waits(e) {
					items[i][j].err = errWaiting
					continue
				}
			}
			events = append(events, e)
			owner = append(owner, [2]int{i, j})
		}
	}
	if len(events) > 0 {
		err := w.write(events)
		if storeDown(err, len(events)) {
			err = w.hold(ctx, msgs, events, err)
		}
		for k, o := range owner {
			items[o[0]][o[1]].err = errorFor(err, k)
			if d := w.opts.Delivery; d != nil {
				w.order.settled(events[k], items[o[0]][o[1]].err)
				if d.Seen != nil && events[k].IsCanary() && items[o[0]][o[1]].err == nil {
					d.Seen(events[k], "delivered")
				}
			}
		}
		if w.opts.Observer != nil {
			w.observe(ctx, msgs, events, owner, items)
		}
	}
	for i, m := range msgs {
		w.settle(m, items[i])
	}
}

// observe tells the Observer of the events that were written.
func (w *Worker) observe(ctx context.Context, msgs []*bus.Msg, events []*schema.Event, owner [][2]int, items [][]item) {
	again := make([]bool, len(msgs)) // a message's metadata is parsed once, not per event
	for i, m := range msgs {
		again[i] = m.Delivered() > 1
	}
	stored := make([]*schema.Event, 0, len(events))
	redelivered := make([]bool, 0, len(events))
	for k, o := range owner {
		if items[o[0]][o[1]].err == nil {
			stored = append(stored, events[k])
			redelivered = append(redelivered, again[o[0]])
		}
	}
	octx, cancel := context.WithTimeout(ctx, w.opts.WriteTimeout)
	defer cancel()
	if err := w.opts.Observer.Observe(octx, stored, redelivered); err != nil {
		w.log.Warn().Err(err).Msg("the loss meter could not count a batch; its events are stored")
	}
}

// write is one Sink.Write under the rate limit and the write deadline.
func (w *Worker) write(events []*schema.Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
	defer cancel()
	if w.limiter != nil {
		if err := w.limiter.WaitN(ctx, min(len(events), w.limiter.Burst())); err != nil {
			w.log.Warn().Err(err).Msg("rate limiter")
		}
	}
	start := time.Now()
	err := w.sink.Write(ctx, events)
	w.m.write.Observe(time.Since(start).Seconds())
	if err != nil {
		w.log.Warn().Err(err).Int("events", len(events)).Msg("sink write failed")
	}
	return err
}

// storeDown reports whether a Write failed for every one of its n events,
// and for a reason a retry may fix: the store is down or unreachable.
func storeDown(err error, n int) bool {
	if err == nil {
		return false
	}
	for i := range n {
		if e := errorFor(err, i); e == nil || errors.Is(e, ErrPermanent) {
			return false
		}
	}
	return true
}

// hold retries a batch the store refused whole, in place, until the store
// takes it, a retry fails differently (some events stored or poison), or
// ctx ends. Its messages are kept in progress meanwhile, so nothing is
// redelivered to another worker. Redelivering each message on its own
// backoff instead would leave the backlog waiting up to the longest backoff
// after the store came back; held, it drains within holdProbe.
func (w *Worker) hold(ctx context.Context, msgs []*bus.Msg, events []*schema.Event, err error) error {
	w.m.holding.Set(1)
	defer w.m.holding.Set(0)
	w.log.Warn().Err(err).Int("events", len(events)).Msg("store refused the whole batch: holding it and retrying until the store is back")
	keepAlive := max(w.opts.AckWait/3, time.Second)
	lastKept := time.Now()
	first, most := holdFirst, holdProbe
	var giveUp time.Time // a destination's retry window; zero: never
	if d := w.opts.Delivery; d != nil {
		first, most = d.bounds()
		giveUp = time.Now().Add(d.window() - d.retried(msgs[0].Delivered()))
	}
	for delay := first; storeDown(err, len(events)); delay = min(2*delay, most) {
		if !giveUp.IsZero() && time.Now().Add(delay).After(giveUp) {
			return Permanent(fmt.Errorf("retried for %s, the retry window: last: %w", w.opts.Delivery.window(), err))
		}
		var de *DeliveryError
		if errors.As(errorFor(err, 0), &de) && de.RetryAfter > delay {
			delay = de.RetryAfter
		}
		if keepInProgress(ctx, delay, keepAlive, msgs, &lastKept) != nil {
			return err // shutting down: the messages are redelivered (Nak)
		}
		w.m.held.Inc()
		err = w.write(events)
	}
	if err == nil {
		w.log.Info().Int("events", len(events)).Msg("store back: held batch written")
	}
	return err
}

// keepInProgress waits d (or until ctx ends, its error), telling
// JetStream every keepAlive that msgs are still in progress, so a long
// backoff never outlives ack_wait and hands the held messages to another
// fetch while they are held.
func keepInProgress(ctx context.Context, d, keepAlive time.Duration, msgs []*bus.Msg, lastKept *time.Time) error {
	end := time.Now().Add(d)
	for {
		if time.Since(*lastKept) >= keepAlive {
			for _, m := range msgs {
				_ = m.InProgress()
			}
			*lastKept = time.Now()
		}
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		if err := sleep(ctx, min(left, keepAlive-time.Since(*lastKept))); err != nil {
			return err
		}
	}
}

// A held batch is retried after holdFirst, then at doubling intervals up to holdProbe.
const (
	holdFirst = 250 * time.Millisecond
	holdProbe = 2 * time.Second
)

// settle gives a message its one verdict from its events' decisions: any
// transient failure → the whole message is redelivered after the backoff
// (stored events are rewritten idempotently); otherwise every poison event
// is dead-lettered with its reason and the message acked (terminated when
// nothing in it could be stored).
func (w *Worker) settle(m *bus.Msg, items []item) {
	delivered := m.Delivered()
	var retry, dead []Decision
	var deadAt []int
	for j, it := range items {
		d := Decide(it.err, delivered, w.opts.Backoff)
		if w.opts.Delivery != nil {
			d = w.opts.Delivery.decide(it.err, delivered)
		}
		switch d.Verdict {
		case Retry:
			retry = append(retry, d)
		case DeadLetter:
			dead = append(dead, d)
			deadAt = append(deadAt, j)
		}
	}
	var verdict Verdict
	var err error
	switch {
	case len(retry) > 0:
		verdict = Retry
		delay := retry[0].Delay
		for _, r := range retry {
			delay = max(delay, r.Delay)
		}
		err = m.Nak(delay)
	case len(dead) > 0:
		verdict = DeadLetter
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for n, j := range deadAt {
			if err = w.dlq.DeadLetter(ctx, m, j, items[j].data, w.opts.Consumer, dead[n].Reason); err != nil {
				break
			}
			w.m.dead.Inc()
			if ev := items[j].ev; ev != nil {
				w.order.unblockDead(ev)
			}
			w.log.Warn().Str("reason", dead[n].Reason).Uint64("seq", m.StreamSeq()).Int("line", j).Msg("event dead-lettered")
		}
		cancel()
		switch {
		case err != nil:
			// Not kept anywhere yet: leave the message on the stream for later.
			w.log.Error().Err(err).Msg("dead-letter publish failed; message will be redelivered")
			verdict = Retry
			err = m.Nak(w.opts.Backoff[len(w.opts.Backoff)-1])
		case len(dead) == len(items):
			err = m.Term(dead[0].Reason)
		default:
			err = m.Ack()
			w.m.stored.Add(float64(taken(items) - len(dead)))
		}
	default:
		verdict = Ack
		err = m.Ack()
		w.m.stored.Add(float64(taken(items)))
	}
	w.m.verdicts.WithLabelValues(verdict.String()).Inc()
	if err != nil {
		// The server redelivers after AckWait; idempotent sinks make that safe.
		w.log.Warn().Err(err).Str("verdict", verdict.String()).Msg("settling message failed")
	}
}

// sleep waits d, or less when ctx ends (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// taken counts the items that were written (not left out by a filter).
func taken(items []item) int {
	n := 0
	for _, it := range items {
		if !it.skip {
			n++
		}
	}
	return n
}

// refreshForgotten reloads a destination's forgotten people when due.
func (w *Worker) refreshForgotten(ctx context.Context) error {
	d := w.opts.Delivery
	if d == nil || d.Forgotten == nil || !w.gone.Stale(time.Now()) {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ids, err := d.Forgotten(rctx)
	if err != nil {
		return err
	}
	w.gone.Set(ids, time.Now())
	return nil
}

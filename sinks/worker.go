package sinks

import (
	"context"
	"errors"
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
	// DeadLetter returns nil once the copy is durably stored.
	DeadLetter(ctx context.Context, msg *bus.Msg, consumer, reason string) error
}

// WorkerOptions tunes batching, pacing and retries.
type WorkerOptions struct {
	Consumer     string          // durable name, for dead-letter headers
	BatchSize    int             // messages per Write at most
	BatchWait    time.Duration   // how long to wait to fill a batch
	RateLimit    float64         // events written per second; 0 = unlimited
	Backoff      []time.Duration // retry delay per delivery
	WriteTimeout time.Duration   // one Write's deadline
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
}

type workerMetrics struct {
	verdicts *prometheus.CounterVec
	batch    prometheus.Histogram
	write    prometheus.Histogram
}

// NewWorker builds a worker; reg receives its metrics.
func NewWorker(sink Sink, src Source, dlq DeadLetterer, opts WorkerOptions, reg prometheus.Registerer, log zerolog.Logger) *Worker {
	m := &workerMetrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_sink_messages_total",
			Help: "Messages by verdict: ack, retry, dead_letter."}, []string{"verdict"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "spoor_sink_batch_size",
			Help: "Messages per fetched batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		write: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "spoor_sink_write_seconds",
			Help: "Time of one Sink.Write.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	reg.MustRegister(m.verdicts, m.batch, m.write)
	w := &Worker{sink: sink, src: src, dlq: dlq, opts: opts, log: log, m: m}
	if opts.RateLimit > 0 {
		w.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), max(opts.BatchSize, int(opts.RateLimit)))
	}
	return w
}

// Run processes batches until ctx ends, then finishes the batch in hand
// and returns. The Sink must already be open.
func (w *Worker) Run(ctx context.Context) error {
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
		w.process(msgs)
	}
	return nil
}

// process writes one batch and settles every message. It deliberately
// ignores shutdown: the batch in hand is finished, bounded by WriteTimeout.
func (w *Worker) process(msgs []*bus.Msg) {
	decode := schema.Decode
	if _, ok := w.sink.(RawSink); ok {
		decode = schema.DecodeHead
	}
	events := make([]*schema.Event, 0, len(msgs))
	idx := make([]int, 0, len(msgs)) // events[k] came from msgs[idx[k]]
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		e, err := decode(m.Data())
		if err != nil {
			errs[i] = Permanent(err)
			continue
		}
		events = append(events, e)
		idx = append(idx, i)
	}
	if len(events) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
		if w.limiter != nil {
			if err := w.limiter.WaitN(ctx, len(events)); err != nil {
				w.log.Warn().Err(err).Msg("rate limiter")
			}
		}
		start := time.Now()
		err := w.sink.Write(ctx, events)
		w.m.write.Observe(time.Since(start).Seconds())
		cancel()
		if err != nil {
			w.log.Warn().Err(err).Int("events", len(events)).Msg("sink write failed")
		}
		for k, i := range idx {
			errs[i] = errorFor(err, k)
		}
	}
	for i, m := range msgs {
		w.settle(m, Decide(errs[i], m.Delivered(), w.opts.Backoff))
	}
}

func (w *Worker) settle(m *bus.Msg, d Decision) {
	var err error
	switch d.Verdict {
	case Ack:
		err = m.Ack()
	case Retry:
		err = m.Nak(d.Delay)
	case DeadLetter:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = w.dlq.DeadLetter(ctx, m, w.opts.Consumer, d.Reason)
		cancel()
		if err != nil {
			// Not kept anywhere yet: leave it on the stream for later.
			w.log.Error().Err(err).Msg("dead-letter publish failed; message will be redelivered")
			d = Decision{Verdict: Retry}
			err = m.Nak(w.opts.Backoff[len(w.opts.Backoff)-1])
			break
		}
		w.log.Warn().Str("reason", d.Reason).Uint64("seq", m.StreamSeq()).Msg("message dead-lettered")
		err = m.Term(d.Reason)
	}
	w.m.verdicts.WithLabelValues(d.Verdict.String()).Inc()
	if err != nil {
		// The server redelivers after AckWait; idempotent sinks make that safe.
		w.log.Warn().Err(err).Str("verdict", d.Verdict.String()).Msg("settling message failed")
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

package app

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// backlogEvery is how often the consumers' backlog is read from JetStream
// (not on each scrape: a scrape must stay cheap, whoever scrapes).
const backlogEvery = 15 * time.Second

// backlog exports spoor_consumer_backlog_messages{consumer}: the messages
// each durable consumer this process runs (the store's, the failed events',
// each destination's) has not settled: waiting in the stream plus
// delivered and not yet acknowledged. The alert on a backlog that keeps
// growing reads it (docs/operations.md).
type backlog struct {
	once      sync.Once
	gauge     *prometheus.GaugeVec
	mu        sync.Mutex
	consumers []string
	kick      chan struct{} // a consumer was added: read now
}

// watchBacklog adds consumer to the ones read, and starts the reading
// the first time.
func (a *App) watchBacklog(runCtx context.Context, consumer string) {
	b := &a.backlog
	b.once.Do(func() {
		b.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spoor_consumer_backlog_messages",
			Help: "Messages a durable consumer of this process has not settled: waiting in the stream, or delivered and not yet acknowledged (read every 15 s)."},
			[]string{"consumer"})
		a.Reg.MustRegister(b.gauge)
		b.kick = make(chan struct{}, 1)
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			t := time.NewTicker(backlogEvery)
			defer t.Stop()
			for {
				b.mu.Lock()
				names := append([]string(nil), b.consumers...)
				b.mu.Unlock()
				for _, name := range names {
					ctx, cancel := context.WithTimeout(runCtx, 5*time.Second)
					n, err := a.consumerBacklog(ctx, name)
					cancel()
					if err != nil {
						continue // unknown now: the last reading stands
					}
					b.gauge.WithLabelValues(name).Set(float64(n))
				}
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
				case <-b.kick:
				}
			}
		}()
	})
	b.mu.Lock()
	b.consumers = append(b.consumers, consumer)
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// consumerBacklog is the messages a durable consumer has not settled over
// every partition: waiting in the stream, or delivered and not yet
// acknowledged (the dashboard's lag, and the gauge above).
func (a *App) consumerBacklog(ctx context.Context, consumer string) (uint64, error) {
	states, err := a.Bus.PartitionStates(ctx, consumer)
	var n uint64
	for _, s := range states {
		n += s.Pending + uint64(s.AckWait)
	}
	return n, err
}

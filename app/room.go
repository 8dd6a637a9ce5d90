package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// roomEvery is how often the event streams' fill is looked at; roomMark is
// the share of nats.max_bytes above which a stream purges the events every
// durable consumer acknowledged (bus.MakeRoom).
const (
	roomEvery = 10 * time.Second
	roomMark  = 0.8
)

// makeRoom keeps a stream that fills up able to take events once its
// consumers have settled them, instead of refusing events until its oldest
// age out (bus.MakeRoom); counted in spoor_stream_purged_messages_total.
func (a *App) makeRoom(runCtx context.Context) {
	purged := prometheus.NewCounter(prometheus.CounterOpts{Name: "spoor_stream_purged_messages_total",
		Help: "Bus messages every durable consumer had acknowledged, purged from an event stream past 80% of nats.max_bytes to make room."})
	a.Reg.MustRegister(purged)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(roomEvery)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(runCtx, 5*time.Second)
			n, err := a.Bus.MakeRoom(ctx, roomMark)
			cancel()
			purged.Add(float64(n))
			switch {
			case err != nil && runCtx.Err() == nil:
				a.log.Warn().Err(err).Msg("making room in the event streams")
			case n > 0:
				a.log.Info().Uint64("messages", n).Msg("event stream past 80% of nats.max_bytes: purged what every consumer acknowledged")
			}
		}
	}()
}

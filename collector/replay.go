package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/spoor-dev/spoor/collector/spool"
)

// Replayer drains the spool into JetStream whenever the bus is reachable.
type Replayer struct {
	c     *Collector
	sp    *spool.Spool
	every time.Duration
}

// NewReplayer returns a replayer for c's spool, checking every interval.
func (c *Collector) NewReplayer(sp *spool.Spool, every time.Duration) *Replayer {
	return &Replayer{c: c, sp: sp, every: every}
}

// Run replays until ctx ends.
func (r *Replayer) Run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		if r.c.pub.Connected() && r.sp.Pending() {
			n, err := r.sp.Replay(r.publishAll)
			if n > 0 {
				r.c.log.Info().Int("messages", n).Msg("replayed spooled events into jetstream")
			}
			if err != nil {
				r.c.log.Warn().Err(err).Msg("spool replay paused")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// publishAll publishes a segment's records in order and waits until
// JetStream holds all of them. Ids already stored are dropped by the bus.
func (r *Replayer) publishAll(recs []spool.Record) error {
	const window = 1000 // publishes in flight
	for i := range recs {
		recs[i].Part = r.c.partitionOf(recs[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for start := 0; start < len(recs); start += window {
		chunk := recs[start:min(start+window, len(recs))]
		cctx, ccancel := context.WithTimeout(ctx, r.c.cfg.AckTimeout)
		rest := r.c.publish(cctx, chunk)
		ccancel()
		if len(rest) > 0 {
			return fmt.Errorf("%d of %d events not acknowledged", len(rest), len(chunk))
		}
		r.c.m.Published.WithLabelValues("replay").Add(float64(countEvents(chunk)))
	}
	return nil
}

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

// Run replays until ctx ends. With collector.ack: local it is the
// forwarder: every interval it seals the segment being written and moves
// it to JetStream.
func (r *Replayer) Run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	paused := false
	for {
		if r.c.pub.Connected() && r.sp.Pending() {
			n, err := r.sp.Replay(r.publishAll)
			if n > 0 && r.c.cfg.Ack != AckLocal {
				r.c.log.Info().Int("messages", n).Msg("replayed spooled events into jetstream")
			}
			switch {
			case err != nil && !paused:
				r.c.log.Warn().Err(err).Msg("spool replay paused")
			case err == nil && paused:
				r.c.log.Info().Msg("spool replay resumed")
			}
			paused = err != nil
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
	events := countEvents(recs)
	recs = forwardMessages(recs)
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
	}
	path := "replay"
	if r.c.cfg.Ack == AckLocal {
		path = "forward"
	}
	r.c.m.Published.WithLabelValues(path).Add(float64(events))
	return nil
}

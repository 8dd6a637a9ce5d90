package collector

import (
	"context"
	"errors"
	"fmt"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/schema"
)

// Track builds the hits' events as the endpoints build theirs and accepts
// them together under the same contract: it returns nil once every event
// is durable (JetStream's PubAck or the spool), concurrent calls sharing
// one publish (group commit), or the reason none is: a refusal (400) when
// a hit cannot make a valid event, which no retry would change. Machine traffic its
// endpoint does not keep (collector.drop_bots) is left out and counted.
func (c *Collector) Track(ctx context.Context, hits ...schema.Hit) error {
	return c.acceptHits(ctx, hits, true)
}

// acceptHits accepts hits; shared is false when their event ids came from the
// client (a Segment messageId), so their message keeps a dedup id.
func (c *Collector) acceptHits(ctx context.Context, hits []schema.Hit, shared bool) error {
	recs := make([]spool.Record, 0, len(hits))
	for i, h := range hits {
		rec, keep, err := c.hitRecord(h)
		if errors.Is(err, schema.ErrInvalid) { // the client's: no retry would change it
			return badRequest("invalid_field", "message %d: %s", i, err)
		}
		if err != nil {
			return err
		}
		if keep {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if hits[0].Endpoint != "segment" { // counted by its handler, which sees the dropped ones too
		c.m.Received.WithLabelValues(hits[0].Endpoint).Add(float64(len(recs)))
	}
	return c.accept(ctx, recs, shared)
}

func (c *Collector) hitRecord(h schema.Hit) (spool.Record, bool, error) {
	b := c.builder()
	defer c.release(b)
	for _, f := range h.Fields {
		if err := b.Set(f.Name, f.Value); err != nil {
			return spool.Record{}, false, fmt.Errorf("building the %s event: %w", h.Endpoint, err)
		}
	}
	info := schema.ServerInfo{ReceivedAt: h.At, Endpoint: h.Endpoint, UserAgent: h.UserAgent, VisitorID: h.VisitorID}
	c.derive(request{endpoint: h.Endpoint, ip: h.IP, userAgent: h.UserAgent, method: h.Method, purpose: h.Purpose,
		acceptLanguage: h.AcceptLanguage}, &info)
	e := b.Finish(info)
	var ipHash string
	c.applyIP(e, h.IP, &ipHash)
	if c.dropBot(e) {
		return spool.Record{}, false, nil
	}
	data, err := e.Encode()
	if err != nil {
		return spool.Record{}, false, fmt.Errorf("encoding the %s event: %w", h.Endpoint, err)
	}
	return spool.Record{ID: e.EventID, Data: data, Part: c.partition(e)}, true, nil
}

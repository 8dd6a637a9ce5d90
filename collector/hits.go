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
// a hit cannot make a valid event, which no retry would change. Machine
// traffic its endpoint does not keep (collector.drop_bots) is left out and
// counted.
func (c *Collector) Track(ctx context.Context, hits ...schema.Hit) error {
	_, _, err := c.acceptHits(ctx, hits, nil, true)
	return err
}

// acceptHits accepts hits, and failed, the messages of the same request
// that could not become events (kept as failed events), and returns how
// many events it accepted and every failed one. A hit whose event cannot
// be built fails too when it came from a message (Hit.Source) among
// others; alone, or the proxy's, it is the request refused (400). shared
// is false when the event ids came from the client (a Segment messageId),
// so their message keeps a dedup id.
func (c *Collector) acceptHits(ctx context.Context, hits []schema.Hit, failed []*schema.Failed, shared bool) (int, []*schema.Failed, error) {
	recs := make([]spool.Record, 0, len(hits)+len(failed))
	n := 0
	var memo derived
	var out arena
	for i, h := range hits {
		rec, keep, err := c.hitRecord(h, &memo, &out, len(hits)-i)
		if errors.Is(err, schema.ErrInvalid) {
			err = badRequest("invalid_field", "message %d: %s", h.Index, err)
		}
		// The client's (an invalid field, or its app's plan blocks it): no
		// retry would change it. Alone it is the request refused; among
		// others it is a failed event and the others go on.
		var re refusal
		if errors.As(err, &re) {
			if h.Source == nil || len(hits)+len(failed) == 1 {
				return 0, nil, err
			}
			failed = append(failed, withViolations(failedOf(h.Endpoint, h.At, h.Index, re.Reason(), re.Error(), h.Source), err))
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		if keep {
			recs = append(recs, rec)
			n++
		}
	}
	for _, f := range failed {
		if rec, ok := c.failedRecord(f); ok {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return 0, failed, nil
	}
	if n > 0 && hits[0].Endpoint != "segment" { // counted by its handler, which sees the dropped ones too
		c.m.Received.WithLabelValues(hits[0].Endpoint).Add(float64(n))
	}
	return n, failed, c.accept(ctx, recs, shared)
}

// derived is what derive found for the request the last hit came with: a
// batch's messages mostly share the client's address and agent, so derive
// (the bot signals, the address's place) runs once per distinct request,
// and the address is hashed once.
type derived struct {
	r      request
	info   schema.ServerInfo // derive's fields only
	ipHash string
	ok     bool
}

func (m *derived) of(c *Collector, r request) *derived {
	if !m.ok || m.r != r {
		*m = derived{r: r, ok: true}
		c.derive(r, &m.info)
	}
	return m
}

func (c *Collector) hitRecord(h schema.Hit, memo *derived, out *arena, left int) (spool.Record, bool, error) {
	b := c.builder()
	defer c.release(b)
	if !h.Created.IsZero() {
		if err := b.SetTime("created", h.Created); err != nil {
			return spool.Record{}, false, fmt.Errorf("building the %s event: %w", h.Endpoint, err)
		}
	}
	for _, f := range h.Fields {
		if err := b.Set(f.Name, f.Value); err != nil {
			return spool.Record{}, false, fmt.Errorf("building the %s event: %w", h.Endpoint, err)
		}
	}
	d := memo.of(c, request{endpoint: h.Endpoint, ip: h.IP, userAgent: h.UserAgent, method: h.Method, purpose: h.Purpose,
		acceptLanguage: h.AcceptLanguage})
	info := d.info
	info.ReceivedAt, info.Endpoint, info.UserAgent, info.VisitorID, info.Canary = h.At, h.Endpoint, h.UserAgent, h.VisitorID, h.Canary
	e := b.Finish(info)
	c.applyIP(e, h.IP, &d.ipHash)
	if c.dropBot(e) {
		return spool.Record{}, false, nil
	}
	data, err := c.checkPlan(e, out.encode(e, left))
	if err != nil {
		return spool.Record{}, false, err
	}
	return spool.Record{ID: e.EventID, Data: data, Part: c.partition(e)}, true, nil
}

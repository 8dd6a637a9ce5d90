package collector

import (
	"context"
	"errors"
	"strconv"

	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/internal/secret"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// clientEvents serves GET|POST /tr/v1/<tuplets> and POST /tr/v1/ with a JSON
// object or batch: 200 {"accepted":N} once every event is durable.
func (c *Collector) clientEvents(ctx *fasthttp.RequestCtx, endpoint, tail string) {
	c.applyCORS(ctx)
	if ctx.IsOptions() {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	if !ctx.IsGet() && !ctx.IsPost() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use GET or POST")
		return
	}
	if tail == "/forget" && ctx.IsPost() {
		c.forgetVisitor(ctx)
		return
	}
	c.ingest(ctx, endpoint, tail, false)
}

// serverSide serves POST /str/v1/: events from a customer's servers. When
// collector.server_tokens is set, a matching "Authorization: Bearer" is
// required; the event may then carry the end user's "ua".
func (c *Collector) serverSide(ctx *fasthttp.RequestCtx, tail string) {
	if !ctx.IsPost() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if len(c.cfg.ServerTokens) > 0 && !c.authorized(ctx) {
		c.m.Rejected.WithLabelValues("unauthorized").Inc()
		reply.Error(ctx, fasthttp.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
		return
	}
	c.ingest(ctx, "str", tail, true)
}

// authorized: the request's bearer token is one of collector.server_tokens.
func (c *Collector) authorized(ctx *fasthttp.RequestCtx) bool {
	got, ok := secret.Bearer(ctx.Request.Header.Peek("Authorization"))
	return ok && secret.Match(got, c.cfg.ServerTokens)
}

// admit answers a request from a blocked address (403) or over the per-IP
// rate (429) on the JSON endpoints, and reports whether it may go on.
func (c *Collector) admit(ctx *fasthttp.RequestCtx) bool {
	if c.blockedIP(ctx) {
		c.refuse(ctx, errBlocked)
		return false
	}
	if c.limited(ctx) {
		c.m.Rejected.WithLabelValues("rate_limited").Inc()
		ctx.Response.Header.Set("Retry-After", "1")
		reply.Error(ctx, fasthttp.StatusTooManyRequests, "rate_limited", "too many requests from this address")
		return false
	}
	return true
}

func (c *Collector) ingest(ctx *fasthttp.RequestCtx, endpoint, tail string, trusted bool) {
	if !c.admit(ctx) {
		return
	}
	n, ok := c.reserve(ctx)
	if !ok {
		c.overloaded(ctx)
		return
	}
	defer c.budget.give(n)
	evs, failed, dropped, clientIDs, err := c.readEvents(ctx, endpoint, tail, trusted, nil)
	if err != nil {
		c.keepRefused(ctx, endpoint, "", err)
		c.refuse(ctx, err)
		return
	}
	c.m.Received.WithLabelValues(endpoint).Add(float64(len(evs)))
	accepted := len(evs)
	for _, f := range failed {
		if rec, ok := c.failedRecord(f); ok {
			evs = append(evs, rec)
		}
	}
	if len(evs) > 0 {
		if err := c.accept(context.Background(), evs, !clientIDs); err != nil {
			c.unavailable(ctx, err)
			return
		}
	}
	if len(failed) > 0 {
		answerBatch(ctx, []byte(`{"accepted":`), accepted+dropped, failed)
		return
	}
	ctx.SetContentType("application/json")
	var buf [32]byte
	// Dropped machine traffic is answered like kept events: a bot learns nothing.
	body := strconv.AppendInt(append(buf[:0], `{"accepted":`...), int64(accepted+dropped), 10)
	ctx.SetBody(append(body, '}'))
}

// gif is a 1x1 transparent GIF.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

// pixel serves GET /img/v1/<tuplets> (e-mail opens). It always answers the
// GIF, uncacheable; an event that cannot be kept is counted as lost.
func (c *Collector) pixel(ctx *fasthttp.RequestCtx, tail string) {
	c.record(ctx, "img", tail, &linkHit{unique: "img" + tail})
	ctx.ResetBody()
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("image/gif")
	ctx.Response.Header.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	ctx.Response.Header.Set("Pragma", "no-cache")
	ctx.SetBody(gif)
}

// redirect serves GET /rdr/v1/<tuplets>?url=<target>[&sig=<sig>]: records
// the click and answers 302 to the target when links.Policy allows it (a
// local path, an allowed host, or a valid signature over the target and
// every tracked field); any other target gets the configured fallback and
// no event (no open redirect).
func (c *Collector) redirect(ctx *fasthttp.RequestCtx, tail string) {
	args := ctx.QueryArgs()
	raw, sig := string(args.Peek("url")), string(args.Peek("sig"))
	var fields []links.Field
	if sig != "" || len(c.cfg.Redirects.AppendFields) > 0 {
		fields = redirectFields(args, tail)
	}
	target, refused := c.cfg.Redirects.Resolve(raw, fields, sig)
	if refused != "" {
		c.m.Rejected.WithLabelValues(refused).Inc()
		target = c.cfg.RedirectTo
	} else {
		c.record(ctx, "rdr", tail, &linkHit{unique: "rdr " + target})
	}
	ctx.ResetBody()
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Redirect(target, fasthttp.StatusFound)
}

// redirectFields are the fields a redirect's signature covers: its path
// tuplets and its query but the target and the signature. A path that does
// not parse has none (and its signature will not verify).
func redirectFields(args *fasthttp.Args, tail string) []links.Field {
	pairs, err := schema.ParseTuplets(tail)
	if err != nil {
		return nil
	}
	fields := make([]links.Field, 0, len(pairs)+args.Len())
	for _, p := range pairs {
		fields = append(fields, links.Field{Key: p.Key, Value: p.Value})
	}
	args.VisitAll(func(k, v []byte) {
		if key := string(k); key != "url" && key != "sig" {
			fields = append(fields, links.Field{Key: key, Value: string(v)})
		}
	})
	return fields
}

// record parses and stores one event for the pixel and redirect endpoints,
// which answer the same whatever happens here. It reports whether the
// event was kept (made durable).
func (c *Collector) record(ctx *fasthttp.RequestCtx, endpoint, tail string, lk *linkHit) bool {
	if c.blockedIP(ctx) {
		c.m.Lost.WithLabelValues("blocked").Inc()
		return false
	}
	if c.limited(ctx) {
		c.m.Lost.WithLabelValues("rate_limited").Inc()
		return false
	}
	n, ok := c.reserve(ctx)
	if !ok {
		c.m.Lost.WithLabelValues("overloaded").Inc()
		return false
	}
	defer c.budget.give(n)
	evs, _, _, clientIDs, err := c.readEvents(ctx, endpoint, tail, false, lk)
	if err != nil {
		c.refuse(ctx, err)
		switch {
		case errors.Is(err, errBlocked):
			c.m.Lost.WithLabelValues("blocked").Inc()
		case !c.keepRefused(ctx, endpoint, "", err): // kept as a failed event when it is about what it holds
			c.m.Lost.WithLabelValues("invalid").Inc()
		}
		return false
	}
	c.m.Received.WithLabelValues(endpoint).Add(float64(len(evs)))
	if len(evs) == 0 {
		return false
	}
	if err := c.accept(context.Background(), evs, !clientIDs); err != nil {
		c.m.Lost.WithLabelValues("unavailable").Add(float64(len(evs)))
		c.log.Warn().Err(err).Str("endpoint", endpoint).Msg("event could not be stored; client answered anyway")
		return false
	}
	return true
}

package collector

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/spoor-dev/spoor/internal/clock"
	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/segment"
	"github.com/valyala/fasthttp"
)

// segment serves POST /v1/<call>: track, page, screen, identify, group,
// alias, batch and import, as Segment's HTTP Tracking API specifies. The
// body is decoded by segment/ (one hit per message); all are made durable
// together before the 200; any invalid message makes the whole request a
// 400.
func (c *Collector) segment(ctx *fasthttp.RequestCtx, call string) {
	if len(c.cfg.Segment.WriteKeys) == 0 {
		reply.Error(ctx, fasthttp.StatusNotFound, "segment_off",
			"the Segment API is off: set segment.write_keys (SPOOR_SEGMENT_WRITE_KEYS=key=app,…)")
		return
	}
	if key, ok := segment.SettingsKey(call); ok {
		c.segmentSettings(ctx, key)
		return
	}
	if !segment.Known(call) {
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such Segment call: /v1/"+call)
		return
	}
	if !ctx.IsPost() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if !c.admit(ctx) {
		return
	}
	n, ok := c.reserve(ctx)
	if !ok {
		c.overloaded(ctx)
		return
	}
	defer c.budget.give(n)
	refuse := func(err error) { // kept as a failed event when it is about what the request holds
		c.keepRefused(ctx, "segment", "", err)
		c.refuse(ctx, err)
	}
	body := ctx.PostBody()
	if enc := strings.ToLower(string(ctx.Request.Header.ContentEncoding())); enc == "gzip" {
		var err error
		if body, err = gunzip(body, c.cfg.HTTP.MaxDecompressedBytes); err != nil {
			refuse(err)
			return
		}
	} else if enc != "" && enc != "identity" {
		refuse(&requestError{fasthttp.StatusUnsupportedMediaType, "unsupported_encoding", "Content-Encoding " + enc + " is not supported (use gzip)"})
		return
	}
	now := clock.Now()
	room := scratches.Get().(*segment.Scratch)
	defer keepScratch(room)
	hits, failures, err := c.cfg.Segment.Decode(segment.Request{Call: call, Body: body, Now: now, ClientIP: c.clientIP(ctx),
		Authorization: string(ctx.Request.Header.Peek("Authorization")), AcceptLanguage: string(ctx.Request.Header.Peek("Accept-Language")),
		Scratch: room})
	if err != nil {
		refuse(err)
		return
	}
	c.m.Received.WithLabelValues("segment").Add(float64(len(hits)))
	if schema.IsCanary(ctx.Request.Header.Peek(schema.CanaryHeader)) {
		for i := range hits {
			hits[i].Canary = true
		}
	}
	failed := make([]*schema.Failed, 0, len(failures))
	for _, f := range failures {
		ff := failedOf("segment", now, f.Index, f.Reason, f.Msg, f.Source)
		ff.App = f.App
		failed = append(failed, ff)
	}
	before := len(failed)
	_, failed, err = c.acceptHits(context.Background(), hits, failed, false)
	if err != nil {
		if errors.As(err, new(refusal)) {
			refuse(err) // permanent: a 4xx, never a 5xx a client would retry forever
		} else {
			c.unavailable(ctx, err)
		}
		return
	}
	// Segment's libraries read only the status; the counts are for people.
	if len(failed) == 0 { // as Segment answers
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"success":true}`)
		return
	}
	// Machine traffic dropped is answered as accepted: a bot learns nothing.
	answerBatch(ctx, []byte(`{"success":true,"accepted":`), len(hits)-(len(failed)-before), failed)
}

// scratches are the rooms Segment requests build their hits in: a batch
// of 100 needs ~70 KB of them, which a request would otherwise allocate.
var scratches = sync.Pool{New: func() any { return new(segment.Scratch) }}

// keepScratch returns room for the next request, unless a batch far
// larger than the libraries send (100 at most by default) grew it.
func keepScratch(room *segment.Scratch) {
	if room.Size() <= 512 {
		scratches.Put(room)
	}
}

// segmentSettings serves GET /v1/projects/<writeKey>/settings, which
// Segment's libraries fetch at start (their cdnHost): with it, pointing a
// mobile library's apiHost and cdnHost at the collector is all it takes.
// An unknown write key is a 404, as Segment's CDN answers it.
func (c *Collector) segmentSettings(ctx *fasthttp.RequestCtx, key string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		reply.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	if _, ok := c.cfg.Segment.WriteKeys[key]; !ok {
		reply.Error(ctx, fasthttp.StatusNotFound, "invalid_write_key", "no such write key")
		return
	}
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "public, max-age=300")
	ctx.SetBody(segment.Settings(key, links.BaseURL(c.cfg.Links.BaseURL, c.https(ctx), string(ctx.Host()))))
}

package collector

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/valyala/fasthttp"
)

// SegmentOptions are the Segment-compatible API's (docs/events.md).
type SegmentOptions struct {
	WriteKeys map[string]string // write key → app; empty: the API is off
	Trusted   map[string]bool   // write keys whose context.ip is believed
}

// The spec's limits (segment.com/docs/connections/sources/catalog/libraries/server/http-api).
const (
	segmentMaxEvent  = 32 << 10
	segmentMaxBatch  = 500 << 10
	segmentMaxEvents = 2500
)

// segmentNS names the event ids derived from messageIds that are no UUID.
var segmentNS = uuid.MustParse("6f3c1d2e-5b7a-4c89-9e1f-2a4b6c8d0e13")

// segment serves POST /v1/<call>: track, page, screen, identify, group,
// alias, batch and import, as Segment's HTTP Tracking API specifies. Each
// message becomes one event (collector.Hit), all made durable together
// before the 200; any invalid message makes the whole request a 400.
func (c *Collector) segment(ctx *fasthttp.RequestCtx, call string) {
	if len(c.cfg.Segment.WriteKeys) == 0 {
		jsonError(ctx, fasthttp.StatusNotFound, "segment_off",
			"the Segment API is off: set segment.write_keys (SPOOR_SEGMENT_WRITE_KEYS=key=app,…)")
		return
	}
	single := map[string]bool{"track": true, "page": true, "screen": true, "identify": true, "group": true, "alias": true}
	if !single[call] && call != "batch" && call != "import" {
		jsonError(ctx, fasthttp.StatusNotFound, "not_found", "no such Segment call: /v1/"+call)
		return
	}
	if !ctx.IsPost() {
		jsonError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if c.blockedIP(ctx) {
		c.refuse(ctx, errBlocked)
		return
	}
	if c.limited(ctx) {
		c.m.Rejected.WithLabelValues("rate_limited").Inc()
		ctx.Response.Header.Set("Retry-After", "1")
		jsonError(ctx, fasthttp.StatusTooManyRequests, "rate_limited", "too many requests from this address")
		return
	}
	hits, err := c.segmentHits(ctx, call, single[call])
	if err != nil {
		c.refuse(ctx, err)
		return
	}
	c.m.Received.WithLabelValues("segment").Add(float64(len(hits)))
	if err := c.acceptHits(context.Background(), hits, false); err != nil {
		c.unavailable(ctx, err)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"success":true}`)
}

// segmentBody is a request: one message, or a batch.
type segmentBody struct {
	Batch    []json.RawMessage `json:"batch"`
	WriteKey string            `json:"writeKey"`
	SentAt   string            `json:"sentAt"`
	Context  json.RawMessage   `json:"context"`
}

// segmentMessage is one call's payload (the spec's common fields and each
// call's own).
type segmentMessage struct {
	Type              string          `json:"type"`
	Event             string          `json:"event"`
	Name              string          `json:"name"`
	MessageID         json.RawMessage `json:"messageId"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	GroupID           json.RawMessage `json:"groupId"`
	PreviousID        json.RawMessage `json:"previousId"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           json.RawMessage `json:"context"`
	Timestamp         string          `json:"timestamp"`
	OriginalTimestamp string          `json:"originalTimestamp"`
	SentAt            string          `json:"sentAt"`
	WriteKey          string          `json:"writeKey"`
}

type segmentContext struct {
	IP        string `json:"ip"`
	UserAgent string `json:"userAgent"`
	Locale    string `json:"locale"`
	Timezone  string `json:"timezone"`
	Page      struct {
		URL, Referrer, Title string
	} `json:"page"`
	Campaign struct {
		Name, Source, Medium, Term, Content string
	} `json:"campaign"`
	Library struct{ Name, Version string }    `json:"library"`
	Screen  struct{ Width, Height *int64 }    `json:"screen"`
	Device  struct{ ID, Type, Model string }  `json:"device"`
	OS      struct{ Name, Version string }    `json:"os"`
	App     struct{ Version json.RawMessage } `json:"app"`
}

func (c *Collector) segmentHits(ctx *fasthttp.RequestCtx, call string, single bool) ([]Hit, error) {
	body := ctx.PostBody()
	if enc := strings.ToLower(string(ctx.Request.Header.ContentEncoding())); enc == "gzip" {
		var err error
		if body, err = gunzip(body, c.cfg.HTTP.MaxDecompressedBytes); err != nil {
			return nil, err
		}
	} else if enc != "" && enc != "identity" {
		return nil, &requestError{fasthttp.StatusUnsupportedMediaType, "unsupported_encoding", "Content-Encoding " + enc + " is not supported (use gzip)"}
	}
	if single && len(body) > segmentMaxEvent {
		return nil, badRequest("event_too_large", "the message is %d bytes; the limit is 32 KB", len(body))
	}
	if !single && len(body) > segmentMaxBatch {
		return nil, badRequest("batch_too_large", "the batch is %d bytes; the limit is 500 KB", len(body))
	}
	var top segmentBody
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, badRequest("invalid_json", "%s", err)
	}
	raws := []json.RawMessage{body}
	if !single {
		if len(top.Batch) == 0 {
			return nil, badRequest("empty_batch", "the batch holds no messages")
		}
		if len(top.Batch) > segmentMaxEvents {
			return nil, badRequest("batch_too_large", "the batch holds %d messages; the limit is %d", len(top.Batch), segmentMaxEvents)
		}
		raws = top.Batch
	}
	msgs := make([]segmentMessage, len(raws))
	for i, raw := range raws {
		if len(raw) > segmentMaxEvent {
			return nil, badRequest("event_too_large", "message %d is %d bytes; the limit is 32 KB", i, len(raw))
		}
		if err := json.Unmarshal(raw, &msgs[i]); err != nil {
			return nil, badRequest("invalid_json", "message %d: %s", i, err)
		}
	}
	key := c.segmentKey(ctx, top.WriteKey, msgs)
	app, ok := c.cfg.Segment.WriteKeys[key]
	if !ok {
		return nil, &requestError{fasthttp.StatusUnauthorized, "invalid_write_key", "missing or unknown write key (HTTP Basic user, or writeKey in the body)"}
	}
	trusted := c.cfg.Segment.Trusted[key]
	now := time.Now()
	reqIP := c.clientIP(ctx)
	lang := "-" // a server's request says nothing about its user's browser
	if l := ctx.Request.Header.Peek("Accept-Language"); len(l) > 0 {
		lang = string(l)
	}
	hits := make([]Hit, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		typ := m.Type
		if single {
			typ = call
		}
		if m.SentAt == "" {
			m.SentAt = top.SentAt
		}
		h, err := segmentHit(m, typ, app, now)
		if err != nil {
			return nil, badRequest(errReason(err), "message %d: %s", i, err)
		}
		// The batch's context first, the message's own over it.
		var sc segmentContext
		for _, ctxJSON := range []json.RawMessage{top.Context, m.Context} {
			if len(ctxJSON) > 0 && json.Unmarshal(ctxJSON, &sc) != nil {
				return nil, badRequest("invalid_json", "message %d: context is not an object", i)
			}
		}
		h.Fields = append(h.Fields, contextFields(&sc, m, typ)...)
		// The user agent is the end user's (context.userAgent, which
		// analytics.js always sends); a server library's own agent says
		// nothing about the user, so without one the event has none.
		h.IP, h.UserAgent, h.AcceptLanguage, h.Method = reqIP, sc.UserAgent, lang, "POST"
		if trusted && sc.IP != "" {
			h.IP = sc.IP
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// segmentKey finds the write key: HTTP Basic's user (the password empty),
// or writeKey in the body or its first message.
func (c *Collector) segmentKey(ctx *fasthttp.RequestCtx, body string, msgs []segmentMessage) string {
	if enc, ok := bytes.CutPrefix(ctx.Request.Header.Peek("Authorization"), []byte("Basic ")); ok {
		if dec, err := base64.StdEncoding.DecodeString(string(enc)); err == nil {
			user, _, _ := strings.Cut(string(dec), ":")
			return user
		}
	}
	if body != "" {
		return body
	}
	if len(msgs) > 0 {
		return msgs[0].WriteKey
	}
	return ""
}

func segmentOptions(s config.Segment) SegmentOptions {
	o := SegmentOptions{WriteKeys: s.WriteKeys, Trusted: map[string]bool{}}
	for _, k := range s.TrustedKeys {
		o.Trusted[k] = true
	}
	return o
}

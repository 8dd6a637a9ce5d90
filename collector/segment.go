package collector

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
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

// segmentSingle are the calls whose body is one message.
var segmentSingle = map[string]bool{"track": true, "page": true, "screen": true, "identify": true, "group": true, "alias": true}

// segmentNS names the event ids derived from messageIds that are no UUID.
var segmentNS = uuid.MustParse("6f3c1d2e-5b7a-4c89-9e1f-2a4b6c8d0e13")

// segment serves POST /v1/<call>: track, page, screen, identify, group,
// alias, batch and import, as Segment's HTTP Tracking API specifies. Each
// message becomes one event (schema.Hit), all made durable together
// before the 200; any invalid message makes the whole request a 400.
func (c *Collector) segment(ctx *fasthttp.RequestCtx, call string) {
	if len(c.cfg.Segment.WriteKeys) == 0 {
		jsonError(ctx, fasthttp.StatusNotFound, "segment_off",
			"the Segment API is off: set segment.write_keys (SPOOR_SEGMENT_WRITE_KEYS=key=app,…)")
		return
	}
	if !segmentSingle[call] && call != "batch" && call != "import" {
		jsonError(ctx, fasthttp.StatusNotFound, "not_found", "no such Segment call: /v1/"+call)
		return
	}
	if !ctx.IsPost() {
		jsonError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if !c.admit(ctx) {
		return
	}
	hits, err := c.segmentHits(ctx, call, segmentSingle[call])
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

// segmentMessage is one call's payload: the spec's common fields and each
// call's own, read off the collector's JSON scanner (no reflection).
type segmentMessage struct {
	Type, Event, Name                              string
	MessageID, UserID, AnonymousID                 json.RawMessage
	GroupID, PreviousID                            json.RawMessage
	Properties, Traits, Context                    json.RawMessage
	Timestamp, OriginalTimestamp, SentAt, WriteKey string
	Batch                                          json.RawMessage // of a /v1/batch body
	size                                           int             // bytes, about
}

func readSegmentMessage(obj schema.Object) segmentMessage {
	m := segmentMessage{size: 2}
	for _, mb := range obj {
		m.size += len(mb.Key) + len(mb.Value) + 4
		switch mb.Key {
		case "type":
			m.Type = jsonText(mb.Value)
		case "event":
			m.Event = jsonText(mb.Value)
		case "name":
			m.Name = jsonText(mb.Value)
		case "messageId":
			m.MessageID = mb.Value
		case "userId":
			m.UserID = mb.Value
		case "anonymousId":
			m.AnonymousID = mb.Value
		case "groupId":
			m.GroupID = mb.Value
		case "previousId":
			m.PreviousID = mb.Value
		case "properties":
			m.Properties = mb.Value
		case "traits":
			m.Traits = mb.Value
		case "context":
			m.Context = mb.Value
		case "timestamp":
			m.Timestamp = jsonText(mb.Value)
		case "originalTimestamp":
			m.OriginalTimestamp = jsonText(mb.Value)
		case "sentAt":
			m.SentAt = jsonText(mb.Value)
		case "writeKey":
			m.WriteKey = jsonText(mb.Value)
		case "batch":
			m.Batch = mb.Value
		}
	}
	return m
}

type segmentContext struct {
	IP, UserAgent, Locale, Timezone   string
	PageURL, PageReferrer, PageTitle  string
	Campaign                          [5]string // name, source, medium, term, content
	LibraryName, LibraryVersion       string
	ScreenWidth, ScreenHeight         string
	DeviceID, DeviceType, DeviceModel string
	OSName, OSVersion                 string
	AppVersion                        string
}

// readSegmentContext reads context's members over what sc holds (a
// batch's context, then the message's own).
func readSegmentContext(raw json.RawMessage, sc *segmentContext) error {
	ctx, err := object(raw)
	if err != nil {
		return err
	}
	for _, mb := range ctx {
		// sub reads a nested object's members into the fields pick names.
		sub := func(pick func(key string) *string) error {
			obj, err := object(mb.Value)
			if err != nil {
				return err
			}
			for _, f := range obj {
				if p := pick(f.Key); p != nil {
					*p = scalarText(f.Value)
				}
			}
			return nil
		}
		switch mb.Key {
		case "ip":
			sc.IP = jsonText(mb.Value)
		case "userAgent":
			sc.UserAgent = jsonText(mb.Value)
		case "locale":
			sc.Locale = jsonText(mb.Value)
		case "timezone":
			sc.Timezone = jsonText(mb.Value)
		case "page":
			err = sub(func(k string) *string {
				return pick3(k, "url", &sc.PageURL, "referrer", &sc.PageReferrer, "title", &sc.PageTitle)
			})
		case "campaign":
			c := &sc.Campaign
			err = sub(func(k string) *string {
				if p := pick3(k, "name", &c[0], "source", &c[1], "medium", &c[2]); p != nil {
					return p
				}
				return pick3(k, "term", &c[3], "content", &c[4], "", nil)
			})
		case "library":
			err = sub(func(k string) *string {
				return pick3(k, "name", &sc.LibraryName, "version", &sc.LibraryVersion, "", nil)
			})
		case "screen":
			err = sub(func(k string) *string { return pick3(k, "width", &sc.ScreenWidth, "height", &sc.ScreenHeight, "", nil) })
		case "device":
			err = sub(func(k string) *string {
				return pick3(k, "id", &sc.DeviceID, "type", &sc.DeviceType, "model", &sc.DeviceModel)
			})
		case "os":
			err = sub(func(k string) *string { return pick3(k, "name", &sc.OSName, "version", &sc.OSVersion, "", nil) })
		case "app":
			err = sub(func(k string) *string { return pick3(k, "version", &sc.AppVersion, "", nil, "", nil) })
		}
		if err != nil {
			return fmt.Errorf("context.%s: %w", mb.Key, err)
		}
	}
	return nil
}

// pick3 is the field of up to three (name, field) pairs that k names.
func pick3(k, n1 string, p1 *string, n2 string, p2 *string, n3 string, p3 *string) *string {
	switch {
	case k == n1:
		return p1
	case k == n2:
		return p2
	case k == n3 && n3 != "":
		return p3
	}
	return nil
}

// object reads raw as one JSON object (null or absent: none).
func object(raw json.RawMessage) (schema.Object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, errors.New("not an object")
	}
	objs, err := schema.ParseJSONBody(raw, 1)
	if err != nil {
		return nil, err
	}
	return objs[0], nil
}

func (c *Collector) segmentHits(ctx *fasthttp.RequestCtx, call string, single bool) ([]schema.Hit, error) {
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
	if i := bytes.IndexFunc(body, func(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }); i < 0 || body[i] != '{' {
		return nil, badRequest("invalid_json", "the body must be a JSON object")
	}
	objs, err := schema.ParseJSONBody(body, 1)
	if err != nil {
		return nil, badRequest("invalid_json", "%s", err)
	}
	top := readSegmentMessage(objs[0])
	msgs := []segmentMessage{top}
	if !single {
		if b := bytes.TrimSpace(top.Batch); len(b) == 0 || b[0] != '[' {
			return nil, badRequest("empty_batch", "the body holds no batch array")
		}
		items, err := schema.ParseJSONBody(top.Batch, segmentMaxEvents)
		var tm *schema.TooManyError
		switch {
		case errors.Is(err, schema.ErrEmptyBatch):
			return nil, badRequest("empty_batch", "the batch holds no messages")
		case errors.As(err, &tm):
			return nil, badRequest("batch_too_large", "the batch holds %d messages; the limit is %d", tm.Got, segmentMaxEvents)
		case err != nil:
			return nil, badRequest("invalid_json", "batch: %s", err)
		}
		msgs = make([]segmentMessage, len(items))
		for i, it := range items {
			if msgs[i] = readSegmentMessage(it); msgs[i].size > segmentMaxEvent {
				return nil, badRequest("event_too_large", "message %d is about %d bytes; the limit is 32 KB", i, msgs[i].size)
			}
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
	var batchCtx segmentContext
	if !single {
		if err := readSegmentContext(top.Context, &batchCtx); err != nil {
			return nil, badRequest("invalid_json", "the batch's %s", err)
		}
	}
	hits := make([]schema.Hit, 0, len(msgs))
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
		sc := batchCtx
		if err := readSegmentContext(m.Context, &sc); err != nil {
			return nil, badRequest("invalid_json", "message %d: %s", i, err)
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

// Package segment decodes Segment's HTTP Tracking API: the body of one
// call (track, page, screen, identify, group, alias, batch, import) in,
// one schema.Hit per message out. It is pure: no transport, no clock of
// its own, nothing kept between calls. The collector's thin handler reads
// the request (method, gzip, rate limits) and makes the hits durable.
//
// The spec: segment.com/docs/connections/sources/catalog/libraries/server/http-api;
// how each field maps: docs/events.md, "From the Segment API".
package segment

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// The spec's limits.
const (
	MaxMessageBytes = 32 << 10
	MaxBatchBytes   = 500 << 10
	MaxBatchEvents  = 2500
)

// single are the calls whose body is one message.
var single = map[string]bool{"track": true, "page": true, "screen": true, "identify": true, "group": true, "alias": true}

// Known reports whether call (the path after /v1/) is part of the API:
// the six calls, batch and import, and b, the batch path of Segment's
// mobile libraries (analytics-swift, analytics-kotlin, React Native).
func Known(call string) bool {
	return single[call] || call == "batch" || call == "import" || call == "b"
}

// Keys are the write keys the API takes.
type Keys struct {
	WriteKeys map[string]string // write key → app; empty: the API is off
	Trusted   map[string]bool   // write keys whose context.ip is believed
}

// KeysFrom builds Keys from the configured map and the trusted list.
func KeysFrom(writeKeys map[string]string, trusted []string) Keys {
	k := Keys{WriteKeys: writeKeys, Trusted: map[string]bool{}}
	for _, t := range trusted {
		k.Trusted[t] = true
	}
	return k
}

// Request is one call as the handler read it.
type Request struct {
	Call           string // track, page, …, batch, import
	Body           []byte // already decompressed
	Authorization  string // the request's header: HTTP Basic's user is the write key
	ClientIP       string // the request's address, as the collector resolved it
	AcceptLanguage string // the request's header, "" when absent
	Now            time.Time
	// Scratch, when set, is where the hits and their fields are built:
	// Decode reuses what an earlier call left in it. The caller must be
	// done with that call's hits before passing the same Scratch again.
	Scratch *Scratch
}

// Scratch is the room Decode builds hits in, kept by a caller between
// requests (in a sync.Pool) so that a batch's hits cost no allocation.
type Scratch struct {
	hits     []schema.Hit
	slab     []schema.HitField
	batchCtx msgContext
	ctxs     contexts
}

// Size is how many hits s has room for.
func (s *Scratch) Size() int { return cap(s.hits) }

// Error is a refusal of the whole request, with the HTTP status and the
// machine-readable reason the answer carries.
type Error struct {
	Status int
	Code   string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// HTTPStatus and Reason make an Error answerable by the collector.
func (e *Error) HTTPStatus() int { return e.Status }
func (e *Error) Reason() string  { return e.Code }

func badRequest(reason, format string, a ...any) *Error {
	return &Error{http.StatusBadRequest, reason, fmt.Sprintf(format, a...)}
}

// Failure is a message of a batch that cannot become an event: its place
// in the batch, the reason, and the message as sent. The collector keeps
// it as a failed event (schema.Failed).
type Failure struct {
	Index  int
	Reason string
	Msg    string
	Source schema.Object
	App    string
}

// Decode turns one call into hits, one per message, each carrying the
// client's address and language as the collector's own endpoints do. A
// batch's invalid messages are failures, the others still hits; a request
// that cannot be read at all, or a single call's invalid message, is
// refused whole (*Error).
func (k Keys) Decode(r Request) ([]schema.Hit, []Failure, error) {
	one := single[r.Call]
	body := r.Body
	if one && len(body) > MaxMessageBytes {
		return nil, nil, badRequest("event_too_large", "the message is %d bytes; the limit is 32 KB", len(body))
	}
	if !one && len(body) > MaxBatchBytes {
		return nil, nil, badRequest("batch_too_large", "the batch is %d bytes; the limit is 500 KB", len(body))
	}
	if schema.FirstByte(body) != '{' {
		return nil, nil, badRequest("invalid_json", "the body must be a JSON object")
	}
	top, items, err := messagesOf(body, one)
	if err != nil {
		return nil, nil, err
	}
	firstKey := top.WriteKey
	if !one {
		firstKey = schema.Text(member(items[0], "writeKey"))
	}
	key := writeKey(r.Authorization, top.WriteKey, firstKey)
	app, ok := k.WriteKeys[key]
	if !ok {
		return nil, nil, &Error{http.StatusUnauthorized, "invalid_write_key", "missing or unknown write key (HTTP Basic user, or writeKey in the body)"}
	}
	trusted := k.Trusted[key]
	lang := "-" // a server's request says nothing about its user's browser
	if r.AcceptLanguage != "" {
		lang = r.AcceptLanguage
	}
	room := r.Scratch
	if room == nil {
		room = new(Scratch)
	}
	batchCtx, ctxs := &room.batchCtx, &room.ctxs
	*batchCtx = msgContext{}
	ctxs.reset()
	if !one {
		if err := readContext(top.Context, batchCtx); err != nil {
			return nil, nil, badRequest("invalid_json", "the batch's %s", err)
		}
	}
	if cap(room.hits) < len(items) {
		room.hits = make([]schema.Hit, 0, len(items))
	}
	hits, slab, used := room.hits[:0], room.slab[:0], 0
	var failures []Failure
	var msg message
	for i, it := range items {
		m := &msg
		if one {
			*m = top
		} else {
			readMessage(m, it)
		}
		typ := m.Type
		if typ == "" {
			typ = m.Action
		}
		if one {
			typ = r.Call
		}
		if m.SentAt == "" {
			m.SentAt = top.SentAt
		}
		fail := func(reason, format string, a ...any) {
			failures = append(failures, Failure{Index: i, Reason: reason, Msg: fmt.Sprintf(format, a...), Source: m.obj, App: app})
		}
		if m.size > MaxMessageBytes {
			fail("event_too_large", "message %d is about %d bytes; the limit is 32 KB", i, m.size)
			continue
		}
		// The hits' fields share one allocation: room for a message's own
		// fields (at most 13) and as many as the last context mapped to,
		// sized for the rest of the batch by what a message usually has.
		per := 13 + len(ctxs.fields)
		if cap(slab)-len(slab) < per {
			slab = make([]schema.HitField, 0, (len(items)-i)*(8+len(ctxs.fields))+per)
		}
		hits = append(hits, schema.Hit{}) // built in place
		h := &hits[len(hits)-1]
		if err := hitOf(h, m, typ, app, r.Now, slab[len(slab):len(slab):len(slab)+per]); err != nil {
			hits = hits[:len(hits)-1]
			fail(errReason(err), "message %d: %s", i, err)
			continue
		}
		// The batch's context first, the message's own over it.
		sc, cf, err := ctxs.of(m, typ, batchCtx)
		if err != nil {
			hits = hits[:len(hits)-1]
			fail("invalid_json", "message %d: %s", i, err)
			continue
		}
		h.Source, h.Index = m.obj, i
		h.Fields = append(h.Fields, cf...)
		if len(h.Fields) <= per { // else it outgrew its place and has its own
			slab = slab[:len(slab)+len(h.Fields)]
		}
		used += len(h.Fields)
		// The user agent is the end user's (context.userAgent, which
		// analytics.js always sends); a server library's own agent says
		// nothing about the user, so without one the event has none.
		h.IP, h.UserAgent, h.AcceptLanguage, h.Method = r.ClientIP, sc.UserAgent, lang, "POST"
		if trusted && sc.IP != "" {
			h.IP = sc.IP
		}
	}
	if one && len(failures) > 0 { // a single call's message is the request
		return nil, nil, badRequest(failures[0].Reason, "%s", failures[0].Msg)
	}
	room.hits = hits[:0]
	if r.Scratch != nil && used+13 > cap(room.slab) { // room for the next batch of this size in one piece
		room.slab = make([]schema.HitField, 0, used+used/4+13)
	}
	return hits, failures, nil
}

// messagesOf reads the body: one message, or a batch's (the body's
// object, then the objects of its batch), in one pass over the body.
func messagesOf(body []byte, one bool) (message, []schema.Object, error) {
	if one {
		objs, err := schema.ParseJSONBody(body, 1)
		if err != nil {
			return message{}, nil, badRequest("invalid_json", "%s", err)
		}
		var m message
		readMessage(&m, objs[0])
		return m, objs, nil
	}
	obj, items, err := schema.ParseBatchObject(body, "batch", MaxBatchEvents)
	var tm *schema.TooManyError
	switch {
	case errors.Is(err, schema.ErrEmptyBatch):
		return message{}, nil, badRequest("empty_batch", "the batch holds no messages")
	case errors.As(err, &tm):
		return message{}, nil, badRequest("batch_too_large", "the batch holds %d messages; the limit is %d", tm.Got, MaxBatchEvents)
	case err != nil:
		return message{}, nil, badRequest("invalid_json", "%s", err)
	case items == nil:
		return message{}, nil, badRequest("empty_batch", "the body holds no batch array")
	}
	var m message
	readMessage(&m, obj)
	return m, items, nil
}

// member is the value of obj's last member named key (nil: none).
func member(obj schema.Object, key string) []byte {
	for i := len(obj) - 1; i >= 0; i-- {
		if obj[i].Key == key {
			return obj[i].Value
		}
	}
	return nil
}

// writeKey finds the write key: HTTP Basic's user (the password empty),
// or writeKey in the body or its first message.
func writeKey(authorization, body, first string) string {
	if enc, ok := strings.CutPrefix(authorization, "Basic "); ok {
		if dec, err := base64.StdEncoding.DecodeString(enc); err == nil {
			user, _, _ := strings.Cut(string(dec), ":")
			return user
		}
	}
	if body != "" {
		return body
	}
	return first
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

package segment

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/schema"
)

// eventNS names the event ids derived from messageIds that are no UUID.
var eventNS = uuid.MustParse("6f3c1d2e-5b7a-4c89-9e1f-2a4b6c8d0e13")

// nameID is the event id of a messageId that is no UUID: the name-based
// UUID (version 5) of app, a zero byte and the messageId in eventNS, as
// uuid.NewSHA1 makes it, without its allocations.
func nameID(app string, mid []byte) string {
	var stack [256]byte
	b := append(append(append(append(stack[:0], eventNS[:]...), app...), 0), mid...)
	sum := sha1.Sum(b)
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id.String()
}

// How a Segment message becomes a spoor event: docs/events.md, "From the
// Segment API", field by field.

// mapError carries its reason for the 400.
type mapError struct{ reason, msg string }

func (e *mapError) Error() string { return e.msg }

func errReason(err error) string {
	if se, ok := err.(*mapError); ok {
		return se.reason
	}
	return "invalid_field"
}

var names = map[string]string{"track": "", "page": "page_view", "screen": "screen_view", "identify": "identify",
	"group": "group", "alias": "alias"}

// hitOf maps a message's own fields (docs/events.md, field by field),
// appended to f, into h.
func hitOf(h *schema.Hit, m *message, typ, app string, now time.Time, f []schema.HitField) error {
	ename, ok := names[typ]
	if !ok {
		return &mapError{"invalid_type", fmt.Sprintf("type %q is none of track, page, screen, identify, group, alias", typ)}
	}
	if typ == "track" {
		if ename = m.Event; ename == "" {
			return &mapError{"missing_event", "a track call needs event"}
		}
	}
	uid, vid := idText(m.UserID), idText(m.AnonymousID)
	if uid == "" && vid == "" {
		return &mapError{"missing_id", "request neither has anonymousId nor userId"}
	}
	text := func(name, v string) schema.HitField { return schema.HitField{Name: name, Value: schema.TextValue(v)} }
	f = append(f, text("ename", ename), text("etyp", typ), text("app", app))
	if mid, raw := idBytes(m.MessageID); len(mid) > 0 {
		if id, err := uuid.ParseBytes(mid); err == nil && len(mid) == 36 {
			f = append(f, text("eid", id.String()))
		} else {
			v := schema.JSONValue(raw) // the prop as sent: no encoding it again
			if raw == nil {
				v = schema.TextValue(string(mid))
			}
			f = append(f, schema.HitField{Name: "message_id", Value: v}, text("eid", nameID(app, mid)))
		}
	}
	if vid != "" {
		f = append(f, text("vid", vid))
	}
	if uid != "" {
		f = append(f, text("uid", uid))
	}
	if at, ok := eventTime(m, now); ok {
		h.Created = at // read once: the builder takes it as it is
	}
	if m.Name != "" && (typ == "page" || typ == "screen") {
		f = append(f, text("name", m.Name))
	}
	if g := idText(m.GroupID); g != "" {
		f = append(f, text("group_id", g))
	}
	if p := idText(m.PreviousID); p != "" {
		f = append(f, text("previous_id", p))
	}
	for _, obj := range []json.RawMessage{m.Properties, m.Traits} {
		if len(obj) > 0 && obj[0] == '{' {
			f = append(f, schema.HitField{Name: "props", Value: schema.JSONValue(obj)})
		}
	}
	h.Endpoint, h.Fields, h.At = "segment", f, now
	return nil
}

// eventTime is the event's time: timestamp when sent; else the spec's
// clock-skew correction, receivedAt − (sentAt − originalTimestamp).
func eventTime(m *message, now time.Time) (at time.Time, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
		return t, true
	}
	orig, err1 := time.Parse(time.RFC3339Nano, m.OriginalTimestamp)
	sent, err2 := time.Parse(time.RFC3339Nano, m.SentAt)
	switch {
	case err1 == nil && err2 == nil:
		return now.Add(-sent.Sub(orig)), true
	case err1 == nil:
		return orig, true
	}
	return time.Time{}, false
}

// propsHave reports whether properties carry url and referrer.
func propsHave(raw json.RawMessage) (url, ref bool) {
	if !bytes.Contains(raw, []byte(`"url"`)) && !bytes.Contains(raw, []byte(`"referrer"`)) && !bytes.Contains(raw, []byte(`\u`)) {
		return false, false // neither name can be in it (the common case: no scan)
	}
	if props, err := object(raw); err == nil {
		for _, mb := range props {
			url = url || mb.Key == "url"
			ref = ref || mb.Key == "referrer"
		}
	}
	return url, ref
}

// contextFields maps context onto the event dictionary, appended to f; the
// page's url and referrer only when properties do not carry them already.
func contextFields(sc *msgContext, hasURL, hasRef bool, typ string, f []schema.HitField) []schema.HitField {
	add := func(name, v string) {
		if v != "" {
			f = append(f, schema.HitField{Name: name, Value: schema.TextValue(v)})
		}
	}
	if !hasURL {
		add("url", sc.PageURL)
	}
	if !hasRef {
		add("last", sc.PageReferrer)
	}
	if typ != "page" {
		add("page_title", sc.PageTitle)
	}
	for i, name := range [5]string{"campaign", "source", "medium", "term", "content"} {
		add(name, sc.Campaign[i])
	}
	if sc.LibraryName != "" {
		add("lv", strings.TrimSuffix(sc.LibraryName+"@"+sc.LibraryVersion, "@"))
	}
	add("lang", sc.Locale)
	add("tz", sc.Timezone)
	add("w", sc.ScreenWidth)
	add("h", sc.ScreenHeight)
	add("did", sc.DeviceID)
	add("device", firstOf(sc.DeviceModel, sc.DeviceType))
	add("os", strings.TrimSpace(sc.OSName+" "+sc.OSVersion))
	add("rel", sc.AppVersion)
	if len(sc.Consent) > 0 {
		f = append(f, schema.HitField{Name: "consent", Value: schema.JSONValue(sc.Consent)})
	}
	return f
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// idBytes is idText's bytes, without a copy when raw is a number or a
// string without escapes; raw is then the value as sent (a JSON string of
// valid UTF-8, or a number), else nil.
func idBytes(raw json.RawMessage) (id []byte, asSent json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return nil, nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		return raw, nil // a number's id is its text, kept as a string
	case raw[0] == '"' && len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw):
		return raw[1 : len(raw)-1], raw
	}
	return []byte(schema.Text(raw)), nil
}

// idText reads an id the spec allows as a string or a number.
func idText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return string(raw)
	}
	return schema.Text(raw)
}

// scalarText is a string's text, or a number's or a boolean's as written.
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] != '"' && raw[0] != '{' && raw[0] != '[' && string(raw) != "null" {
		return string(raw)
	}
	return schema.Text(raw)
}

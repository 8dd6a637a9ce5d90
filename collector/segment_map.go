package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/schema"
)

// How a Segment message becomes a spoor event: docs/events.md, "From the
// Segment API", field by field.

// segmentError carries its reason for the 400.
type segmentError struct{ reason, msg string }

func (e *segmentError) Error() string { return e.msg }

func errReason(err error) string {
	if se, ok := err.(*segmentError); ok {
		return se.reason
	}
	return "invalid_field"
}

var segmentNames = map[string]string{"track": "", "page": "page_view", "screen": "screen_view", "identify": "identify",
	"group": "group", "alias": "alias"}

// segmentHit maps a message's own fields (docs/events.md, field by field).
func segmentHit(m *segmentMessage, typ, app string, now time.Time) (Hit, error) {
	ename, ok := segmentNames[typ]
	if !ok {
		return Hit{}, &segmentError{"invalid_type", fmt.Sprintf("type %q is none of track, page, screen, identify, group, alias", typ)}
	}
	if typ == "track" {
		if ename = m.Event; ename == "" {
			return Hit{}, &segmentError{"missing_event", "a track call needs event"}
		}
	}
	uid, vid := idText(m.UserID), idText(m.AnonymousID)
	if uid == "" && vid == "" {
		return Hit{}, &segmentError{"missing_id", "request neither has anonymousId nor userId"}
	}
	text := func(name, v string) HitField { return HitField{Name: name, Value: schema.TextValue(v)} }
	f := []HitField{text("ename", ename), text("etyp", typ), text("app", app)}
	if mid := idText(m.MessageID); mid != "" {
		id, err := uuid.Parse(mid)
		if err != nil || len(mid) != 36 {
			id = uuid.NewSHA1(segmentNS, []byte(app+"\x00"+mid))
			f = append(f, text("message_id", mid))
		}
		f = append(f, text("eid", id.String()))
	}
	if vid != "" {
		f = append(f, text("vid", vid))
	}
	if uid != "" {
		f = append(f, text("uid", uid))
	}
	if at, ok := segmentTime(m, now); ok {
		f = append(f, text("created", at.UTC().Format(time.RFC3339Nano)))
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
			f = append(f, HitField{Name: "props", Value: schema.JSONValue(obj)})
		}
	}
	return Hit{Endpoint: "segment", Fields: f, At: now}, nil
}

// segmentTime is the event's time: timestamp when sent; else the spec's
// clock-skew correction, receivedAt − (sentAt − originalTimestamp).
func segmentTime(m *segmentMessage, now time.Time) (time.Time, bool) {
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

// contextFields maps context onto the event dictionary; the page's url and
// referrer only when properties do not carry them already.
func contextFields(sc *segmentContext, m *segmentMessage, typ string) []HitField {
	var own struct{ URL, Referrer *string }
	if len(m.Properties) > 0 {
		_ = json.Unmarshal(m.Properties, &own)
	}
	var f []HitField
	add := func(name, v string) {
		if v != "" {
			f = append(f, HitField{Name: name, Value: schema.TextValue(v)})
		}
	}
	if own.URL == nil {
		add("url", sc.Page.URL)
	}
	if own.Referrer == nil {
		add("last", sc.Page.Referrer)
	}
	if typ != "page" {
		add("page_title", sc.Page.Title)
	}
	add("campaign", sc.Campaign.Name)
	add("source", sc.Campaign.Source)
	add("medium", sc.Campaign.Medium)
	add("term", sc.Campaign.Term)
	add("content", sc.Campaign.Content)
	if sc.Library.Name != "" {
		add("lv", strings.TrimSuffix(sc.Library.Name+"@"+sc.Library.Version, "@"))
	}
	add("lang", sc.Locale)
	add("tz", sc.Timezone)
	if sc.Screen.Width != nil {
		add("w", strconv.FormatInt(*sc.Screen.Width, 10))
	}
	if sc.Screen.Height != nil {
		add("h", strconv.FormatInt(*sc.Screen.Height, 10))
	}
	add("did", sc.Device.ID)
	add("device", firstOf(sc.Device.Model, sc.Device.Type))
	add("os", strings.TrimSpace(sc.OS.Name+" "+sc.OS.Version))
	if v := idText(sc.App.Version); v != "" {
		add("rel", v)
	}
	return f
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// idText reads an id the spec allows as a string or a number.
func idText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return string(raw)
	}
	return ""
}

package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Encode returns the canonical JSON encoding of e: the bytes the bus
// carries and the file sink stores, one object per line. It is exactly what
// encoding/json produces for Event with HTML escaping off (a test checks),
// written without reflection because it runs once per event.
func (e *Event) Encode() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 1024)), nil
}

// AppendJSON appends the canonical encoding of e to dst.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"event_id":`...)
	dst = appendString(dst, e.EventID)
	dst = append(dst, `,"received_at":`...)
	dst = appendTime(dst, e.ReceivedAt)
	str := func(key, v string) {
		if v != "" {
			dst = append(dst, ',', '"')
			dst = append(dst, key...)
			dst = append(dst, '"', ':')
			dst = appendString(dst, v)
		}
	}
	i64 := func(key string, v *int64) {
		if v != nil {
			dst = append(dst, ',', '"')
			dst = append(dst, key...)
			dst = append(dst, '"', ':')
			dst = strconv.AppendInt(dst, *v, 10)
		}
	}
	f64 := func(key string, v *float64) {
		if v != nil {
			dst = append(dst, ',', '"')
			dst = append(dst, key...)
			dst = append(dst, '"', ':')
			dst = appendFloat(dst, *v)
		}
	}
	str("endpoint", e.Endpoint)
	str("ip_hash", e.IPHash)
	str("ip_prefix", e.IPPrefix)
	str("user_agent", e.UserAgent)
	if e.Bot != nil {
		dst = append(dst, `,"bot":`...)
		dst = strconv.AppendBool(dst, *e.Bot)
	}
	str("bot_family", e.BotFamily)
	str("open_via", e.OpenVia)
	str("geo_country", e.GeoCountry)
	str("geo_city", e.GeoCity)
	str("link", e.Link)
	if e.QR != nil {
		dst = append(dst, `,"qr":`...)
		dst = strconv.AppendBool(dst, *e.QR)
	}
	if e.Unique != nil {
		dst = append(dst, `,"unique":`...)
		dst = strconv.AppendBool(dst, *e.Unique)
	}
	if e.Canary != nil {
		dst = append(dst, `,"canary":`...)
		dst = strconv.AppendBool(dst, *e.Canary)
	}
	str("visitor_id", e.VisitorID)
	str("session_id", e.SessionID)
	str("user_id", e.UserID)
	str("device_id", e.DeviceID)
	str("email_hash", e.EmailHash)
	str("cell_hash", e.CellHash)
	str("uname_hash", e.UnameHash)
	str("event_name", e.EventName)
	str("event_type", e.EventType)
	if e.ClientTime != nil {
		dst = append(dst, `,"client_time":`...)
		dst = appendTime(dst, *e.ClientTime)
	}
	i64("duration", e.Duration)
	if e.First != nil {
		dst = append(dst, `,"first":`...)
		dst = strconv.AppendBool(dst, *e.First)
	}
	i64("client_index", e.ClientIndex)
	str("library_version", e.LibraryVersion)
	str("url", e.URL)
	str("referrer", e.Referrer)
	str("page_type", e.PageType)
	str("page_view_id", e.PageViewID)
	str("parent_page_view_id", e.ParentPageViewID)
	str("app", e.App)
	if len(e.Release) > 0 {
		dst = append(dst, `,"release":`...)
		dst = append(dst, e.Release...)
	}
	str("timezone", e.Timezone)
	str("language", e.Language)
	i64("width", e.Width)
	i64("height", e.Height)
	str("device", e.Device)
	str("os", e.OS)
	f64("lat", e.Lat)
	f64("lon", e.Lon)
	str("country", e.Country)
	str("source", e.Source)
	str("medium", e.Medium)
	str("campaign", e.Campaign)
	str("term", e.Term)
	str("content", e.Content)
	str("referral", e.Referral)
	str("referral_code", e.ReferralCode)
	str("affiliate", e.Affiliate)
	str("experiment_id", e.ExperimentID)
	str("variant", e.Variant)
	str("goal", e.Goal)
	f64("score", e.Score)
	str("outcome", e.Outcome)
	if len(e.Props) > 0 {
		dst = append(dst, `,"props":{`...)
		keys := make([]string, 0, len(e.Props))
		for k := range e.Props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for n, k := range keys {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = append(dst, e.Props[k]...) // validated and compacted by the Builder
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendFloat formats like encoding/json.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst) - start
		if n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString quotes s like encoding/json without HTML escaping: invalid
// UTF-8 becomes U+FFFD, U+2028 and U+2029 are escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Decode parses the canonical encoding produced by Encode.
func Decode(b []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if e.EventID == "" {
		return nil, errMissingEventID
	}
	e.Raw = b
	return &e, nil
}

// DecodeHead validates b as a JSON object and reads only event_id and
// received_at, which the canonical encoding puts first. Sinks that store the
// canonical bytes as they are (Raw) need nothing else; it falls back to
// Decode for any other layout.
func DecodeHead(b []byte) (*Event, error) {
	const p1, p2 = `{"event_id":"`, `","received_at":"`
	if len(b) > len(p1)+len(p2) && string(b[:len(p1)]) == p1 {
		rest := b[len(p1):]
		if q := bytes.IndexByte(rest, '"'); q > 0 && len(rest) > q+len(p2) && string(rest[q:q+len(p2)]) == p2 {
			ts := rest[q+len(p2):]
			if q2 := bytes.IndexByte(ts, '"'); q2 > 0 {
				t, err := time.Parse(time.RFC3339Nano, string(ts[:q2]))
				if err == nil {
					if end, err := skipObject(b, 0, 1); err != nil || skipSpace(b, end) != len(b) {
						return nil, fmt.Errorf("%w: not a JSON object", ErrInvalid)
					}
					return &Event{EventID: string(rest[:q]), ReceivedAt: t, Raw: b}, nil
				}
			}
		}
	}
	return Decode(b)
}

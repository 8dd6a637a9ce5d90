package schema

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ErrInvalid is wrapped by every validation error: the client sent something
// spoor will not store. The collector answers 400 with the message.
var ErrInvalid = errors.New("invalid event")

var errMissingEventID = fmt.Errorf("%w: missing event_id", ErrInvalid)

// Limits bound what one event may carry.
type Limits struct {
	MaxProps     int // free-form properties per event
	MaxKeyLen    int // bytes in a property name
	MaxValueLen  int // bytes in one string value or one raw property value
	MaxNestDepth int // nesting of objects/arrays inside a property
}

// DefaultLimits are used when a Limits field is zero.
var DefaultLimits = Limits{MaxProps: 256, MaxKeyLen: 128, MaxValueLen: 8192, MaxNestDepth: 8}

// Value is one input value: either text from a URL (tuplet or query) or raw
// JSON from a body.
type Value struct {
	Text string
	JSON json.RawMessage // set for values from a JSON body
}

// TextValue and JSONValue build a Value.
func TextValue(s string) Value          { return Value{Text: s} }
func JSONValue(r json.RawMessage) Value { return Value{JSON: r} }
func (v Value) isJSON() bool            { return v.JSON != nil }
func fieldErr(name, format string, a ...any) error {
	return fmt.Errorf("%w: field %q: %s", ErrInvalid, name, fmt.Sprintf(format, a...))
}

// Builder assembles one Event from input values in arrival order; a later
// value for the same field replaces an earlier one.
type Builder struct {
	e       Event
	limits  Limits
	hashKey []byte
	// collisions are the properties kept in props because their value did
	// not fit the field of the same name (props.spoor_collisions).
	collisions []string
}

// CollisionsProp names the prop listing the properties that share a
// field's name but not its kind, kept in props under their own names.
const CollisionsProp = "spoor_collisions"

// NewBuilder starts an event. hashKey keys the HMAC of personal data.
func NewBuilder(limits Limits, hashKey []byte) *Builder {
	return &Builder{limits: limits.withDefaults(), hashKey: hashKey}
}

func (l Limits) withDefaults() Limits {
	if l.MaxProps == 0 {
		l.MaxProps = DefaultLimits.MaxProps
	}
	if l.MaxKeyLen == 0 {
		l.MaxKeyLen = DefaultLimits.MaxKeyLen
	}
	if l.MaxValueLen == 0 {
		l.MaxValueLen = DefaultLimits.MaxValueLen
	}
	if l.MaxNestDepth == 0 {
		l.MaxNestDepth = DefaultLimits.MaxNestDepth
	}
	return l
}

// Reset empties b for a new event with the same limits and key. The Event
// that Finish returned before must no longer be in use.
func (b *Builder) Reset() { b.e, b.collisions = Event{}, b.collisions[:0] }

// Set applies one named value.
func (b *Builder) Set(name string, v Value) error {
	if containers[name] && v.isJSON() && FirstByte(v.JSON) == '{' {
		return b.spread(name, v.JSON)
	}
	if fd := byName[name]; fd != nil {
		return b.setField(fd, name, v)
	}
	return b.setProp(name, v)
}

// SetObject applies every member of a JSON object, in order.
func (b *Builder) SetObject(obj Object) error {
	for _, m := range obj {
		if err := b.Set(m.Key, JSONValue(m.Value)); err != nil {
			return err
		}
	}
	return nil
}

func (b *Builder) spread(name string, raw json.RawMessage) error {
	obj, _, err := scanObject(raw, skipSpace(raw, 0), 1)
	if err != nil {
		return fieldErr(name, "not a JSON object")
	}
	for _, m := range obj {
		k, r := m.Key, m.Value
		fd := byName[k]
		if fd == nil || fd.isSet(&b.e) {
			if err := b.setProp(k, JSONValue(r)); err != nil {
				return err
			}
			continue
		}
		if b.setField(fd, k, JSONValue(r)) == nil {
			continue
		}
		// A property named like a field but not of its kind (Segment's
		// Mobile Spec sends campaign as an object) is the client's own
		// property: it keeps its value in props, and the collision is noted.
		if err := b.setProp(k, JSONValue(r)); err != nil {
			return err
		}
		b.collisions = append(b.collisions, k)
	}
	return nil
}

func (b *Builder) setProp(name string, v Value) error {
	if name == "" || len(name) > b.limits.MaxKeyLen || !utf8.ValidString(name) {
		return fmt.Errorf("%w: property name %.40q: must be 1-%d bytes of UTF-8", ErrInvalid, name, b.limits.MaxKeyLen)
	}
	var raw json.RawMessage
	if v.isJSON() {
		if len(v.JSON) > b.limits.MaxValueLen {
			return fieldErr(name, "value longer than %d bytes", b.limits.MaxValueLen)
		}
		c := FirstByte(v.JSON)
		if c == '{' || c == '[' {
			if depth(v.JSON) > b.limits.MaxNestDepth {
				return fieldErr(name, "nested deeper than %d", b.limits.MaxNestDepth)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v.JSON); err != nil {
				return fieldErr(name, "not valid JSON")
			}
			raw = buf.Bytes()
		} else {
			raw = append(json.RawMessage(nil), bytes.TrimSpace(v.JSON)...)
		}
	} else {
		if len(v.Text) > b.limits.MaxValueLen {
			return fieldErr(name, "value longer than %d bytes", b.limits.MaxValueLen)
		}
		raw, _ = json.Marshal(v.Text)
	}
	if b.e.Props == nil {
		b.e.Props = make(map[string]json.RawMessage, 4)
	}
	if _, exists := b.e.Props[name]; !exists && len(b.e.Props) >= b.limits.MaxProps {
		return fmt.Errorf("%w: more than %d properties", ErrInvalid, b.limits.MaxProps)
	}
	b.e.Props[name] = raw
	return nil
}

func (b *Builder) setField(fd *Field, name string, v Value) error {
	if v.isJSON() && isNull(v.JSON) {
		return nil // null means absent for dictionary fields
	}
	switch fd.Kind {
	case KindString, KindHashed, KindEventID:
		text, err := b.text(name, v)
		if err != nil {
			return err
		}
		switch fd.Kind {
		case KindHashed:
			text = b.hash(fd.Short, text)
		case KindEventID:
			id, ok := canonicalUUID(text)
			if !ok {
				return b.setProp(fd.Short, TextValue(text)) // keep the client's value, assign ours later
			}
			text = id
		}
		*fd.str(&b.e) = text
	case KindInt:
		n, err := number(name, v)
		if err != nil {
			return err
		}
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return fieldErr(name, "not an integer")
		}
		x := int64(n)
		*fd.i64(&b.e) = &x
	case KindFloat:
		n, err := number(name, v)
		if err != nil {
			return err
		}
		*fd.f64(&b.e) = &n
	case KindBool:
		t, err := boolean(name, v)
		if err != nil {
			return err
		}
		*fd.bln(&b.e) = &t
	case KindTime:
		t, err := timestamp(name, v)
		if err != nil {
			return err
		}
		*fd.tm(&b.e) = &t
	case KindScalar:
		raw, err := scalar(name, v)
		if err != nil {
			return err
		}
		*fd.raw(&b.e) = raw
	}
	return nil
}

// text reads a string field; a JSON number or boolean becomes its text.
func (b *Builder) text(name string, v Value) (string, error) {
	var t string
	if v.isJSON() {
		switch FirstByte(v.JSON) {
		case '"':
			var err error
			if t, err = Unquote(v.JSON); err != nil {
				return "", fieldErr(name, "bad JSON string")
			}
		case '{', '[':
			return "", fieldErr(name, "must be a string, got %s", jsonKind(v.JSON))
		default:
			t = string(bytes.TrimSpace(v.JSON))
		}
	} else {
		t = v.Text
	}
	if len(t) > b.limits.MaxValueLen {
		return "", fieldErr(name, "longer than %d bytes", b.limits.MaxValueLen)
	}
	if !utf8.ValidString(t) {
		return "", fieldErr(name, "not valid UTF-8")
	}
	return t, nil
}

// HashIP is the ip_hash the Builder would store for ip under key.
func HashIP(key []byte, ip string) string { return (&Builder{hashKey: key}).hash("ip", ip) }

func (b *Builder) hash(kind, v string) string {
	switch kind {
	case "email":
		v = strings.ToLower(strings.TrimSpace(v))
	case "cell":
		v = strings.Join(strings.Fields(v), "")
	}
	if v == "" {
		return ""
	}
	pool := macPool(b.hashKey)
	m := pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(v))
	var sum [sha256.Size]byte
	s := hex.EncodeToString(m.Sum(sum[:0]))
	pool.Put(m)
	return s
}

// macPools keeps, per key, HMACs whose key schedule is already done: a
// fresh hmac.New per event costs more than the hashing itself.
var macPools sync.Map // string(key) -> *sync.Pool of hash.Hash

func macPool(key []byte) *sync.Pool {
	if p, ok := macPools.Load(string(key)); ok {
		return p.(*sync.Pool)
	}
	k := bytes.Clone(key)
	p, _ := macPools.LoadOrStore(string(k), &sync.Pool{New: func() any { return hmac.New(sha256.New, k) }})
	return p.(*sync.Pool)
}

// ServerInfo is what the collector knows about the request.
type ServerInfo struct {
	ReceivedAt time.Time
	Endpoint   string
	IP         string // raw; only its keyed hash is stored
	IPHash     string // the hash, when the caller computed it once for a batch
	UserAgent  string
	VisitorID  string // from the first-party cookie, used when the event has none
	Bot        bool   // machine traffic, named by BotFamily
	BotFamily  string
	OpenVia    string // an e-mail open fetched by a mail provider's proxy
	// OpenViaVerified: the fetch came from the provider's published
	// addresses, not only with its user agent (props.open_via_verified).
	OpenViaVerified bool
	GeoCountry      string
	GeoCity         string
	Link            string // the short link's slug
	QR              bool   // a scan of the short link's QR code
	// Unique: for clicks and opens, whether this is the visitor's (or the
	// address's) first on the link within the window; nil elsewhere.
	Unique *bool
	Canary bool // sent by spoor canary (the X-Spoor-Canary header)
}

// HasEventID reports whether the client sent a valid event id, the one a
// retry of the same event carries again.
func (b *Builder) HasEventID() bool { return b.e.EventID != "" }

// Finish completes the event: assigns an id when the client sent no valid
// one, stamps the server fields, and returns it. The Builder must not be
// reused afterwards.
func (b *Builder) Finish(si ServerInfo) *Event {
	e := &b.e
	if e.EventID == "" {
		e.EventID = NewEventID()
	}
	e.ReceivedAt = si.ReceivedAt.UTC().Truncate(time.Millisecond)
	e.Endpoint = si.Endpoint
	if e.UserAgent == "" {
		e.UserAgent = si.UserAgent
	}
	switch {
	case si.IPHash != "":
		e.IPHash = si.IPHash
	case si.IP != "":
		e.IPHash = b.hash("ip", si.IP)
	}
	if e.VisitorID == "" {
		e.VisitorID = si.VisitorID
	}
	if si.Bot {
		t := true
		e.Bot, e.BotFamily = &t, si.BotFamily
	}
	e.OpenVia, e.GeoCountry, e.GeoCity = si.OpenVia, si.GeoCountry, si.GeoCity
	e.Link, e.Unique = si.Link, si.Unique
	if si.QR {
		t := true
		e.QR = &t
	}
	if si.Canary {
		t := true
		e.Canary = &t
	}
	if len(b.collisions) > 0 {
		if e.Props == nil {
			e.Props = map[string]json.RawMessage{}
		}
		e.Props[CollisionsProp], _ = json.Marshal(b.collisions)
	}
	if si.OpenViaVerified {
		if e.Props == nil {
			e.Props = map[string]json.RawMessage{}
		}
		e.Props["open_via_verified"] = json.RawMessage("true")
	}
	return e
}

// SetUserAgent sets the user agent from a trusted source (server-side events).
func (b *Builder) SetUserAgent(ua string) { b.e.UserAgent = ua }

// NewEventID returns a new UUIDv7: unique, and sortable by creation time.
func NewEventID() string {
	id, err := uuid.NewV7()
	if err != nil { // only if the random source fails
		id = uuid.New()
	}
	return id.String()
}

func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	if isCanonicalUUID(s) { // the common case (SDKs, spoor's own): s as it is, no parse, no copy
		return s, true
	}
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil {
		return "", false
	}
	return id.String(), true
}

// isCanonicalUUID reports whether s is a UUID in its canonical form
// (lower-case hex, dashes at 8, 13, 18 and 23), other than the nil UUID.
func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	zero := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
		zero = zero && c == '0'
	}
	return !zero
}

func number(name string, v Value) (float64, error) {
	t := v.Text
	if v.isJSON() {
		switch FirstByte(v.JSON) {
		case '"':
			var err error
			if t, err = Unquote(v.JSON); err != nil {
				return 0, fieldErr(name, "bad JSON string")
			}
		case '{', '[', 't', 'f':
			return 0, fieldErr(name, "must be a number, got %s", jsonKind(v.JSON))
		default:
			t = string(bytes.TrimSpace(v.JSON))
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fieldErr(name, "not a number: %.40q", t)
	}
	return n, nil
}

func boolean(name string, v Value) (bool, error) {
	t := v.Text
	if v.isJSON() {
		if FirstByte(v.JSON) == '"' {
			t, _ = Unquote(v.JSON)
		} else {
			t = string(bytes.TrimSpace(v.JSON))
		}
	}
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fieldErr(name, "not a boolean: %.40q", t)
}

var minTime, maxTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// SetTime sets the time field name to t, within the range and to the
// millisecond, as a timestamp value of it would be.
func (b *Builder) SetTime(name string, t time.Time) error {
	fd := byName[name]
	if fd == nil || fd.Kind != KindTime {
		return fieldErr(name, "not a time field")
	}
	t = t.UTC()
	if t.Before(minTime) || !t.Before(maxTime) {
		return fieldErr(name, "timestamp out of range (2000-2099): %s", t.Format(time.RFC3339Nano))
	}
	t = t.Truncate(time.Millisecond)
	*fd.tm(&b.e) = &t
	return nil
}

func timestamp(name string, v Value) (time.Time, error) {
	t := v.Text
	if v.isJSON() && FirstByte(v.JSON) == '"' {
		t, _ = Unquote(v.JSON)
	} else if v.isJSON() {
		t = string(bytes.TrimSpace(v.JSON))
	}
	var ts time.Time
	if ms, ok := epochMillis(t); ok {
		if math.IsNaN(ms) || math.IsInf(ms, 0) {
			return ts, fieldErr(name, "not a timestamp")
		}
		ts = time.UnixMilli(int64(ms)).UTC()
	} else if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
		ts = p.UTC()
	} else {
		return ts, fieldErr(name, "not epoch milliseconds or RFC 3339: %.40q", t)
	}
	if ts.Before(minTime) || !ts.Before(maxTime) {
		return ts, fieldErr(name, "timestamp out of range (2000-2099): %.40q", t)
	}
	return ts.Truncate(time.Millisecond), nil
}

// epochMillis reads t as a number, never trying a date (a T or a colon in it):
// the failed ParseFloat of every date would cost an error's allocation.
func epochMillis(t string) (float64, bool) {
	if strings.ContainsAny(t, "T:") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	return f, err == nil
}

func scalar(name string, v Value) (json.RawMessage, error) {
	if !v.isJSON() {
		raw, _ := json.Marshal(v.Text)
		return raw, nil
	}
	switch FirstByte(v.JSON) {
	case '{', '[':
		return nil, fieldErr(name, "must be a string, number or boolean, got %s", jsonKind(v.JSON))
	}
	return append(json.RawMessage(nil), bytes.TrimSpace(v.JSON)...), nil
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

func jsonKind(b []byte) string {
	switch FirstByte(b) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// depth returns the nesting depth of objects/arrays in valid JSON.
func depth(b []byte) int {
	d, maxD, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			if d > maxD {
				maxD = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Failed is a message spoor could not take as an event, kept with why:
// the message as the client sent it, and the reason. Nothing refused is
// lost: failed events travel the same durable path as events (JetStream's
// failed stream, or the spool) into the failed store (data/failed, or the
// failed_events table), where they are counted, read and replayed.
//
// Its encoding starts like an event's (event_id, received_at: the sinks'
// DecodeHead reads them), then "failed":true, which no event has.
type Failed struct {
	EventID    string    `json:"event_id"`
	ReceivedAt time.Time `json:"received_at"`
	IsFailed   bool      `json:"failed"` // always true: what tells a failed event's bytes from an event's
	Endpoint   string    `json:"endpoint"`
	App        string    `json:"app,omitempty"`
	EventName  string    `json:"event_name,omitempty"`
	// VisitorID and UserID, when the message's could be read, so that
	// spoor forget finds a person's failed events too.
	VisitorID string `json:"visitor_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	// Reason is the machine-readable code (invalid_field, missing_id,
	// invalid_json, …), Error the sentence.
	Reason string `json:"reason"`
	Error  string `json:"error"`
	// Violations: the tracking plan's, when its plan blocked it (reason
	// plan_violation): [{type, path, message, plan}].
	Violations json.RawMessage `json:"violations,omitempty"`
	// Event is the event as the collector built it, when only its app's
	// plan refused it (reason plan_violation): what spoor failed replay
	// checks again against the plan in force then, and sends on, with its
	// own event id, when it passes.
	Event json.RawMessage `json:"event,omitempty"`
	// Index is the message's place in its request (0 for a single one).
	Index int `json:"index"`
	// Payload is the message as sent: JSON when it was, else a JSON string
	// of its text (cut at MaxFailedPayload).
	Payload json.RawMessage `json:"payload"`
}

// MaxFailedPayload bounds the payload a failed event keeps.
const MaxFailedPayload = 64 << 10

// NewFailed builds a failed event of payload with its reason, a fresh
// event id when the message had no valid one.
func NewFailed(endpoint, app string, at time.Time, index int, reason, msg string, payload []byte) *Failed {
	f := &Failed{EventID: NewEventID(), ReceivedAt: at.UTC().Truncate(time.Millisecond), IsFailed: true,
		Endpoint: endpoint, App: app, Reason: reason, Error: msg, Index: index}
	payload = bytes.TrimSpace(payload)
	switch {
	case len(payload) <= MaxFailedPayload && json.Valid(payload):
		var buf bytes.Buffer
		if json.Compact(&buf, payload) == nil {
			f.Payload = buf.Bytes()
		}
	}
	if f.Payload == nil {
		if len(payload) > MaxFailedPayload {
			payload = payload[:MaxFailedPayload]
		}
		f.Payload, _ = json.Marshal(string(bytes.ToValidUTF8(payload, []byte(string(utf8.RuneError)))))
	}
	return f
}

// Encode is the failed event's one-line JSON.
func (f *Failed) Encode() ([]byte, error) {
	f.IsFailed = true
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encoding a failed event: %w", err)
	}
	return b, nil
}

// DecodeFailed reads a failed event's line.
func DecodeFailed(b []byte) (*Failed, error) {
	var f Failed
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decoding a failed event: %w", err)
	}
	if !f.IsFailed || f.EventID == "" {
		return nil, fmt.Errorf("%w: not a failed event", ErrInvalid)
	}
	return &f, nil
}

// IsFailed reports whether b (one line, or the first of several) is a
// failed event's, by the "failed":true that follows its received_at.
func IsFailed(b []byte) bool {
	const p1, p2, p3 = `{"event_id":"`, `","received_at":"`, `","failed":true`
	if !bytes.HasPrefix(b, []byte(p1)) {
		return false
	}
	rest := b[len(p1):]
	q := bytes.IndexByte(rest, '"')
	if q < 0 || !bytes.HasPrefix(rest[q:], []byte(p2)) {
		return false
	}
	ts := rest[q+len(p2):]
	q = bytes.IndexByte(ts, '"')
	return q >= 0 && bytes.HasPrefix(ts[q:], []byte(p3))
}

package schema

import (
	"strings"
	"testing"
	"time"
)

func TestFailedRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"JSON kept compact", `{ "type": "track", "event": 1 }`, `{"type":"track","event":1}`},
		{"text kept as a string", `not json`, `"not json"`},
		{"invalid UTF-8 made valid", "bad \xff byte", `"bad ` + "\uFFFD" + ` byte"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFailed("segment", "shop", at, 3, "invalid_type", "type 1", []byte(tc.payload))
			b, err := f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !IsFailed(b) {
				t.Fatalf("IsFailed(%s) = false", b)
			}
			h, err := DecodeHead(b)
			if err != nil || h.EventID != f.EventID || !h.ReceivedAt.Equal(at) {
				t.Fatalf("DecodeHead: %+v %v", h, err)
			}
			g, err := DecodeFailed(b)
			if err != nil || string(g.Payload) != tc.want || g.Reason != "invalid_type" || g.Index != 3 || g.App != "shop" {
				t.Fatalf("DecodeFailed: %+v %v", g, err)
			}
		})
	}
	big := NewFailed("tr", "", at, 0, "event_too_large", "", []byte(strings.Repeat("x", MaxFailedPayload+10)))
	if len(big.Payload) > MaxFailedPayload+2 {
		t.Errorf("payload of %d bytes kept", len(big.Payload))
	}
	e := &Event{EventID: NewEventID(), ReceivedAt: at, Endpoint: "tr", First: new(bool)}
	b, _ := e.Encode()
	if IsFailed(b) {
		t.Errorf("an event taken for a failed one: %s", b)
	}
}

package schema

import (
	"encoding/json"
	"testing"
	"time"
)

// On the canonical encoding of any event (what the bus carries),
// ClientIndexOf agrees with Decode whenever it claims to read.
func FuzzClientIndexOf(f *testing.F) {
	for _, seed := range []struct {
		app, vid, ua string
		idx          *int64
		props        string
	}{
		{"shop", "v1", "Mozilla", ptr(int64(7)), `{"client_index":99,"app":"x"}`},
		{"", "v\"2", "", ptr(int64(1)), ""},
		{"a\\b", "v3", `x,"client_index":5`, nil, `{"k":1}`},
		{"shop", "", "", ptr(int64(-3)), ""},
		{"shop", "v4", "", nil, `{"canary":true}`},
		{"shop", "v5", "", nil, `{"client_index":4,"app":"y"}`},
	} {
		e := &Event{EventID: "00000000-0000-4000-8000-000000000001", ReceivedAt: time.Unix(1, 0).UTC(), App: seed.app, VisitorID: seed.vid,
			UserAgent: seed.ua, ClientIndex: seed.idx}
		if seed.vid == "v1" {
			e.Canary = ptr(true)
		}
		if seed.props != "" {
			_ = json.Unmarshal([]byte(seed.props), &e.Props)
		}
		b, _ := e.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Decode(in)
		if err != nil {
			return // not an event: the worker refuses it before the meter sees it
		}
		b, _ := e.Encode()
		if IsCanaryEncoded(b) != e.IsCanary() {
			t.Fatalf("IsCanaryEncoded(%s) = %v", b, IsCanaryEncoded(b))
		}
		app, vid, idx, has, ok := ClientIndexOf(b)
		if !ok {
			return
		}
		if has != (e.ClientIndex != nil) || has && (*e.ClientIndex != idx || e.App != app || e.VisitorID != vid) {
			t.Fatalf("ClientIndexOf(%s) = %q %q %d %v; Decode: %q %q %v", b, app, vid, idx, has, e.App, e.VisitorID, e.ClientIndex)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// A GET tuplet's encoding carries no client index: the loss meter's
// common case on the file sink's path.
func BenchmarkClientIndexOf(b *testing.B) {
	for _, c := range []struct {
		name string
		idx  *int64
	}{{"absent", nil}, {"present", ptr(int64(42))}} {
		e := &Event{EventID: "00000000-0000-4000-8000-000000000001", ReceivedAt: time.Unix(1, 0).UTC(), App: "bench",
			VisitorID: "14fb0860-b4bf-11e9-8971-7b80435315ac", EventName: "click", ClientIndex: c.idx, UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
			URL: "https://shop.example/p/1", Props: map[string]json.RawMessage{"lat": json.RawMessage(`37.2`), "first": json.RawMessage(`true`)}}
		enc, _ := e.Encode()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ClientIndexOf(enc)
			}
		})
	}
}

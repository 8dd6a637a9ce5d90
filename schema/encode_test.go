package schema

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// reflectEncode is the reference: encoding/json without HTML escaping.
func reflectEncode(t *testing.T, e *Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	w, zero, f, tiny, huge, yes := int64(375), int64(0), 37.232332, 1e-7, 1e22, false
	ct := time.Date(2020, 3, 25, 15, 10, 28, 377e6, time.UTC)
	cases := map[string]*Event{
		"minimal": {EventID: "0190f5e2-7a1b-7c3d-8e4f-a1b2c3d4e5f6", ReceivedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},
		"full": {EventID: "x", ReceivedAt: time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC), Endpoint: "tr", VisitorID: "v",
			EventName: "Zürich \"東京\" 🎉 <a>&\n\t\x01\u2028", ClientTime: &ct, Width: &w, ClientIndex: &zero, Lat: &f, Lon: &tiny,
			Score: &huge, First: &yes, Release: json.RawMessage(`1`), URL: "https://x/?a=1&b=<2>",
			Props: map[string]json.RawMessage{"b": json.RawMessage(`{"x":[1,2]}`), "a": json.RawMessage(`"s"`), "Z": json.RawMessage(`null`)}},
		"invalid utf8": {EventID: "x", EventName: "a\xffb"},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			got, _ := e.Encode()
			if want := reflectEncode(t, e); !bytes.Equal(got, want) {
				t.Fatalf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	objs, _ := ParseJSONBody([]byte(seedFailedExample), 10)
	bl := NewBuilder(Limits{}, testKey)
	_ = bl.SetObject(objs[0])
	e := bl.Finish(ServerInfo{ReceivedAt: time.Now(), Endpoint: "tr", IP: "127.0.0.1"})
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
}

// BenchmarkParseAndBuild is the collector's per-event hot path: body parse,
// build, encode.
func BenchmarkParseAndBuild(b *testing.B) {
	body := []byte("[" + seedFailedExample + "," + seedPayloadExample + "]")
	b.ReportAllocs()
	for b.Loop() {
		objs, err := ParseJSONBody(body, 100)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range objs {
			bl := NewBuilder(Limits{}, testKey)
			if err := bl.SetObject(o); err != nil {
				b.Fatal(err)
			}
			e := bl.Finish(ServerInfo{ReceivedAt: time.Now(), Endpoint: "tr", IPHash: "h"})
			_, _ = e.Encode()
		}
	}
	b.ReportMetric(float64(b.N*2)/b.Elapsed().Seconds(), "events/s")
}

func TestDecodeHead(t *testing.T) {
	objs, _ := ParseJSONBody([]byte(seedFailedExample), 10)
	bl := NewBuilder(Limits{}, testKey)
	_ = bl.SetObject(objs[0])
	e := bl.Finish(ServerInfo{ReceivedAt: time.Date(2026, 11, 22, 23, 59, 59, 999e6, time.UTC), Endpoint: "tr"})
	enc, _ := e.Encode()
	h, err := DecodeHead(enc)
	if err != nil || h.EventID != e.EventID || !h.ReceivedAt.Equal(e.ReceivedAt) || !bytes.Equal(h.Raw, enc) {
		t.Fatalf("head = %+v, %v", h, err)
	}
	for _, bad := range []string{`{"event_id":"x","received_at":"2026-11-22T10:00:00Z",`, `{"event_id":"x","received_at":"2026-11-22T10:00:00Z"} x`, `garbage`, `{}`} {
		if _, err := DecodeHead([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	// Another key order falls back to a full decode.
	h, err = DecodeHead([]byte(`{"received_at":"2026-11-22T10:00:00Z","event_id":"y","event_name":"z"}`))
	if err != nil || h.EventID != "y" || h.EventName != "z" {
		t.Fatalf("fallback: %+v %v", h, err)
	}
}

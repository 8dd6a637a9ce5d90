package segment

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/schema"
)

// Whatever the bytes, reading a Segment message never panics, and a message
// taken has its name, its type and an id of its person.
func FuzzSegmentMessage(f *testing.F) {
	for _, s := range []string{
		`{"userId":"019mr8mf4r","event":"Item Purchased","properties":{"revenue":14.99},"context":{"ip":"24.5.68.47"},"timestamp":"2012-12-02T00:30:12.984Z"}`,
		`{"type":"page","anonymousId":"a","name":"x","context":{"page":{"url":"https://x.example/"},"campaign":{"name":"c"},"screen":{"width":1,"height":2}}}`,
		`{"type":"identify","userId":42,"traits":{"email":"A@B.example"},"messageId":"m-1","originalTimestamp":"2026-01-01T00:00:00Z","sentAt":"2026-01-01T00:00:10Z"}`,
		`{"type":"alias","previousId":"p","userId":"u","context":{"library":{"name":"n","version":"1"},"os":{"name":"iOS"},"app":{"version":3}}}`,
		`{"batch":[{"type":"track","userId":"u","event":"e"}],"context":{"device":{"type":"phone"}}}`,
		`{"userId":"\u00e9\\\"","event":"\ud83d\ude00"}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	keys := KeysFrom(map[string]string{"wk": "app"}, nil)
	primer := []byte(`{"batch":[{"type":"page","userId":"p","name":"n","properties":{"a":1},"context":{"page":{"url":"https://p.example/",` +
		`"title":"T"},"library":{"name":"l","version":"9"},"ip":"1.2.3.4","campaign":{"name":"c"}}},{"type":"track","anonymousId":"q",` +
		`"event":"e","messageId":"m-9"}],"context":{"locale":"de-DE","device":{"type":"tv"},"userAgent":"UA"}}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		// The whole decoder, as the handler calls it: every hit it returns
		// has a name, a type and a person; a refusal is an *Error with a 4xx.
		for _, call := range []string{"track", "batch"} {
			hits, failures, err := keys.Decode(Request{Call: call, Body: body, Authorization: "Basic d2s6", Now: now})
			// A Scratch that decoded another request before (a batch with
			// contexts of its own) decodes this one exactly as a new one.
			var room Scratch
			keys.Decode(Request{Call: "batch", Body: primer, Authorization: "Basic d2s6", Now: now, Scratch: &room})
			again, againF, againErr := keys.Decode(Request{Call: call, Body: body, Authorization: "Basic d2s6", Now: now, Scratch: &room})
			if fmt.Sprint(err) != fmt.Sprint(againErr) || !reflect.DeepEqual(hits, again) || !reflect.DeepEqual(failures, againF) {
				t.Fatalf("%s %q: decoded with a used Scratch: %+v, %v; afresh: %+v, %v", call, body, again, againErr, hits, err)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Status < 400 || e.Status > 499) {
				t.Fatalf("%s %q: refused with %v, not a 4xx *Error", call, body, err)
			}
			if err != nil && len(hits)+len(failures) > 0 {
				t.Fatalf("%s %q: refused, yet %d hits and %d failures", call, body, len(hits), len(failures))
			}
			for _, f := range failures {
				if f.Reason == "" || f.Msg == "" || !json.Valid(f.Source.JSON()) {
					t.Fatalf("%s %q: failure without a reason or its message: %+v", call, body, f)
				}
			}
			for _, h := range hits {
				got := map[string]bool{}
				for _, f := range h.Fields {
					got[f.Name] = true
				}
				if !got["ename"] || !got["etyp"] || !got["app"] || !(got["uid"] || got["vid"]) {
					t.Fatalf("%s %q decoded without name, type, app or person: %+v", call, body, h.Fields)
				}
			}
		}
		objs, err := schema.ParseJSONBody(body, 10)
		if err != nil {
			return
		}
		for _, o := range objs {
			var m message
			readMessage(&m, o)
			for _, typ := range []string{"track", "page", "screen", "identify", "group", "alias", m.Type} {
				var h schema.Hit
				if hitOf(&h, &m, typ, "app", now, nil) != nil {
					continue
				}
				var sc msgContext
				if readContext(m.Context, &sc) != nil {
					continue
				}
				url, ref := propsHave(m.Properties)
				h.Fields = append(h.Fields, contextFields(&sc, url, ref, typ, nil)...)
				got := map[string]bool{}
				for _, f := range h.Fields {
					got[f.Name] = true
				}
				if !got["ename"] || !got["etyp"] || !(got["uid"] || got["vid"]) {
					t.Fatalf("%s message %q taken without name, type or person: %+v", typ, body, h.Fields)
				}
			}
		}
	})
}

func TestSegmentTime(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		m    message
		want time.Time
		ok   bool
	}{
		{message{Timestamp: "2012-12-02T00:30:12.984Z", OriginalTimestamp: "2000-01-01T00:00:00Z"}, time.Date(2012, 12, 2, 0, 30, 12, 984e6, time.UTC), true},
		// The client's clock runs an hour fast; it sent 10 s after the event.
		{message{OriginalTimestamp: "2026-11-28T12:59:50Z", SentAt: "2026-11-28T13:00:00Z"}, now.Add(-10 * time.Second), true},
		{message{OriginalTimestamp: "2026-11-28T11:00:00Z"}, time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC), true},
		{message{SentAt: "2026-11-28T13:00:00Z"}, time.Time{}, false},
		{message{Timestamp: "yesterday"}, time.Time{}, false},
	} {
		got, ok := eventTime(&tc.m, now)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%+v: %v %v, want %v %v", tc.m, got, ok, tc.want, tc.ok)
		}
	}
}

// Segment's consent (context.consent.categoryPreferences) becomes the
// event's consent prop, which destinations read; the batch's context
// gives it to every message unless a message has its own.
func TestConsentCarried(t *testing.T) {
	keys := KeysFrom(map[string]string{"wk": "shop"}, nil)
	body := `{"batch":[{"type":"track","userId":"u","event":"Order Completed"},
		{"type":"track","userId":"u","event":"Ad Clicked","context":{"consent":{"categoryPreferences":{"Advertising":false}}}}],
		"context":{"consent":{"categoryPreferences":{"Advertising":true,"Analytics":true}}}}`
	hits, _, err := keys.Decode(Request{Call: "batch", Body: []byte(body), Authorization: "Basic d2s6", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	consent := func(h schema.Hit) string {
		for _, f := range h.Fields {
			if f.Name == "consent" {
				return string(f.Value.JSON)
			}
		}
		return ""
	}
	if got := consent(hits[0]); got != `{"Advertising":true,"Analytics":true}` {
		t.Errorf("the batch's consent: %s", got)
	}
	if got := consent(hits[1]); got != `{"Advertising":false}` {
		t.Errorf("a message's own consent: %s", got)
	}
}

// Encode writes what Decode reads: an event sent on in Segment's spec
// comes back as the same call, ids and properties.
func TestEncodeRoundTrips(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := &schema.Event{EventID: "0190a3c0-0000-7000-8000-000000000001", ReceivedAt: at, App: "shop", EventName: "Order Completed",
		EventType: "track", VisitorID: "anon-1", UserID: "u-1", URL: "https://shop.example/cart", Campaign: "spring", Source: "news",
		Props: map[string]json.RawMessage{"total": json.RawMessage(`27.5`), "message_id": json.RawMessage(`"x"`)}}
	raw, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	hits, _, err := KeysFrom(map[string]string{"wk": "shop"}, nil).Decode(Request{Call: "batch", Body: []byte(`{"batch":[` + string(raw) + `]}`),
		Authorization: "Basic d2s6", Now: at.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{"created": hits[0].Created.UTC().Format(time.RFC3339Nano)}
	for _, f := range hits[0].Fields {
		if f.Value.JSON != nil {
			got[f.Name] = string(f.Value.JSON)
		} else {
			got[f.Name] = f.Value.Text
		}
	}
	for k, want := range map[string]string{"ename": "Order Completed", "etyp": "track", "eid": e.EventID, "vid": "anon-1", "uid": "u-1",
		"url": "https://shop.example/cart", "campaign": "spring", "source": "news", "created": "2026-12-01T10:00:00Z", "props": `{"total":27.5}`} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}

// A batch's invalid messages are failures with their place, reason and
// message; the valid ones are still hits. A single call's invalid message
// is the request refused.
func TestBatchFailures(t *testing.T) {
	keys := KeysFrom(map[string]string{"wk": "shop"}, nil)
	body := `{"batch":[{"type":"track","userId":"u1","event":"ok"},{"type":"track","event":"nobody"},
		{"type":"explode","userId":"u2"},{"type":"track","userId":"u3","event":"ctx","context":"not an object"}]}`
	hits, failures, err := keys.Decode(Request{Call: "batch", Body: []byte(body), Authorization: "Basic d2s6", Now: time.Now()})
	if err != nil || len(hits) != 1 || hits[0].Index != 0 || len(failures) != 3 {
		t.Fatalf("hits %d failures %+v err %v", len(hits), failures, err)
	}
	for i, want := range []struct {
		index  int
		reason string
	}{{1, "missing_id"}, {2, "invalid_type"}, {3, "invalid_json"}} {
		f := failures[i]
		var m map[string]any
		if f.Index != want.index || f.Reason != want.reason || f.App != "shop" || json.Unmarshal(f.Source.JSON(), &m) != nil || m["type"] == nil {
			t.Errorf("failure %d: %+v, want index %d reason %s", i, f, want.index, want.reason)
		}
	}
	_, _, err = keys.Decode(Request{Call: "track", Body: []byte(`{"event":"nobody"}`), Authorization: "Basic d2s6", Now: time.Now()})
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "missing_id" {
		t.Fatalf("a single call without an id: %v", err)
	}
}

// nameID is uuid.NewSHA1 of the same name: event ids of messages already
// stored must not change.
func TestNameIDIsUUIDv5(t *testing.T) {
	for _, c := range [][2]string{{"bench", "1764324000-1-7-1"}, {"", ""}, {"shop", "node-next-1733390000000-abc"},
		{"a", strings.Repeat("x", 400)}} {
		want := uuid.NewSHA1(eventNS, []byte(c[0]+"\x00"+c[1])).String()
		if got := nameID(c[0], []byte(c[1])); got != want {
			t.Errorf("nameID(%q, %q) = %s, want %s", c[0], c[1], got, want)
		}
	}
}

// Each message of a batch gets its own context's fields, whether its
// context repeats the one before it or not, and its properties decide
// whether the page's url is taken.
func TestBatchContextsPerMessage(t *testing.T) {
	ctxA := `{"page":{"url":"https://a.example/","referrer":"https://r.example/"},"library":{"name":"analytics.js","version":"1"}}`
	ctxB := `{"page":{"url":"https://b.example/"},"userAgent":"Mozilla/5.0 B"}`
	msg := func(id, ctx, props string) string {
		return `{"type":"track","event":"E","userId":"u","messageId":"` + id + `","properties":` + props + `,"context":` + ctx + `}`
	}
	body := `{"batch":[` + strings.Join([]string{msg("m1", ctxA, `{}`), msg("m2", ctxA, `{"url":"https://own.example/"}`),
		msg("m3", ctxB, `{}`), msg("m4", ctxA, `{"\u0075rl":"https://esc.example/"}`), msg("m5", `{"page":`, `{}`),
		msg("m6", ctxA, `{}`)}, ",") + `],"context":{"locale":"pl-PL"}}`
	k := KeysFrom(map[string]string{"wk": "shop"}, nil)
	hits, failures, err := k.Decode(Request{Call: "batch", Body: []byte(body), Authorization: "Basic d2s6", Now: time.Now()})
	if err == nil {
		t.Fatalf("a batch with an invalid message (m5's context) must be a 400 of the JSON: %d hits, %d failures", len(hits), len(failures))
	}
	body = strings.Replace(body, msg("m5", `{"page":`, `{}`)+",", "", 1)
	if hits, failures, err = k.Decode(Request{Call: "batch", Body: []byte(body), Authorization: "Basic d2s6", Now: time.Now()}); err != nil || len(failures) != 0 {
		t.Fatalf("decode: %v, failures %+v", err, failures)
	}
	want := []map[string]string{
		{"url": "https://a.example/", "last": "https://r.example/", "lv": "analytics.js@1", "lang": "pl-PL"},
		{"url": "", "last": "https://r.example/", "lv": "analytics.js@1", "lang": "pl-PL"},
		{"url": "https://b.example/", "last": "", "lv": "", "lang": "pl-PL"},
		{"url": "", "last": "https://r.example/", "lv": "analytics.js@1", "lang": "pl-PL"},
		{"url": "https://a.example/", "last": "https://r.example/", "lv": "analytics.js@1", "lang": "pl-PL"},
	}
	if len(hits) != len(want) {
		t.Fatalf("%d hits, want %d", len(hits), len(want))
	}
	for i, h := range hits {
		got := map[string]string{}
		for _, f := range h.Fields {
			got[f.Name] = f.Value.Text
		}
		for name, v := range want[i] {
			if got[name] != v {
				t.Errorf("message %d: %s = %q, want %q", i, name, got[name], v)
			}
		}
		if ua := map[bool]string{true: "Mozilla/5.0 B", false: ""}[i == 2]; h.UserAgent != ua {
			t.Errorf("message %d: user agent %q, want %q", i, h.UserAgent, ua)
		}
	}
}

package collector

import (
	"testing"
	"time"

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
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := schema.ParseJSONBody(body, 10)
		if err != nil {
			return
		}
		for _, o := range objs {
			m := readSegmentMessage(o)
			for _, typ := range []string{"track", "page", "screen", "identify", "group", "alias", m.Type} {
				h, err := segmentHit(&m, typ, "app", now)
				if err != nil {
					continue
				}
				var sc segmentContext
				if readSegmentContext(m.Context, &sc) != nil {
					continue
				}
				h.Fields = append(h.Fields, contextFields(&sc, &m, typ)...)
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
		m    segmentMessage
		want time.Time
		ok   bool
	}{
		{segmentMessage{Timestamp: "2012-12-02T00:30:12.984Z", OriginalTimestamp: "2000-01-01T00:00:00Z"}, time.Date(2012, 12, 2, 0, 30, 12, 984e6, time.UTC), true},
		// The client's clock runs an hour fast; it sent 10 s after the event.
		{segmentMessage{OriginalTimestamp: "2026-11-28T12:59:50Z", SentAt: "2026-11-28T13:00:00Z"}, now.Add(-10 * time.Second), true},
		{segmentMessage{OriginalTimestamp: "2026-11-28T11:00:00Z"}, time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC), true},
		{segmentMessage{SentAt: "2026-11-28T13:00:00Z"}, time.Time{}, false},
		{segmentMessage{Timestamp: "yesterday"}, time.Time{}, false},
	} {
		got, ok := segmentTime(&tc.m, now)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%+v: %v %v, want %v %v", tc.m, got, ok, tc.want, tc.ok)
		}
	}
}

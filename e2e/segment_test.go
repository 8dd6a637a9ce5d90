package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

const (
	writeKey   = "wk_Browser_9fK2"    // mixed case: write keys are case-sensitive
	serverKey  = "wk_Server_Trusted1" // a server's key: its context.ip is believed
	segmentApp = "shop"
)

// viaSegment sends the marker as a Segment track call with key.
func viaSegment(base, key string) func(t *testing.T, marker string) {
	return func(t *testing.T, marker string) {
		t.Helper()
		if r := do(t, "POST", base+"/v1/track", []byte(`{"userId":"marker","event":"`+marker+`"}`), basic(key)); r.status != 200 {
			t.Fatalf("marker: %d %s", r.status, r.body)
		}
	}
}

func basic(key string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":")), "Content-Type": "application/json"}
}

// The spec's own examples (segment.com/docs/connections/sources/catalog/
// libraries/server/http-api), each call and a batch, through the running
// collector: every message stored, mapped field by field.
func TestSegmentAPI(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp, serverKey: "backend"}
	cfg.Segment.TrustedKeys = []string{serverKey}
	cfg.Collector.HashKey = "segment-test-hash-key"
	key := []byte(cfg.Collector.HashKey)
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	post := func(path, body string, h map[string]string) response {
		t.Helper()
		return do(t, "POST", base+path, []byte(body), h)
	}
	ok := func(path, body string, h map[string]string) {
		t.Helper()
		if r := post(path, body, h); r.status != 200 || string(r.body) != `{"success":true}` {
			t.Fatalf("POST %s: %d %s", path, r.status, r.body)
		}
	}
	ok("/v1/track", `{"userId": "019mr8mf4r", "event": "Item Purchased", "properties": {"name": "Leap to Conclusions Mat", "revenue": 14.99},
		"context": {"ip": "24.5.68.47"}, "timestamp": "2012-12-02T00:30:12.984Z", "messageId": "msg-track-1"}`, basic(writeKey))
	ok("/v1/identify", `{"userId": "019mr8mf4r", "traits": {"email": "pgibbons@example.com", "name": "Peter Gibbons", "industry": "Technology"},
		"context": {"ip": "24.5.68.47"}, "timestamp": "2012-12-02T00:30:08.276Z", "writeKey": "`+writeKey+`"}`, nil)
	ok("/v1/page", `{"userId": "019mr8mf4r", "name": "Tracking HTTP API", "timestamp": "2012-12-02T00:30:08.276Z",
		"properties": {"url": "https://shop.example/docs", "title": "Tracking"}}`, basic(writeKey))
	ok("/v1/screen", `{"userId": "019mr8mf4r", "name": "Tracking HTTP API", "timestamp": "2012-12-02T00:30:08.276Z"}`, basic(writeKey))
	ok("/v1/group", `{"userId": "019mr8mf4r", "groupId": "8e9df332ac", "traits": {"name": "Initech", "industry": "Technology", "employees": 420},
		"timestamp": "2012-12-02T00:30:08.276Z"}`, basic(writeKey))
	ok("/v1/alias", `{"previousId": "39239-239239-239239-23923", "userId": "019mr8mf4r", "timestamp": "2012-12-02T00:30:08.276Z"}`, basic(writeKey))
	// A batch with its own context, from a trusted server key, gzipped, with the
	// clock-skew rule on one message and a numeric userId.
	sent := time.Now().UTC().Add(time.Hour) // the client's clock is an hour fast
	batch := fmt.Sprintf(`{"batch": [
		{"type": "identify", "userId": "019mr8mf4r", "traits": {"email": "pgibbons@example.com", "name": "Peter Gibbons"}, "timestamp": "2012-12-02T00:30:08.276Z"},
		{"type": "track", "userId": 42, "event": "Song Played", "properties": {"name": "Fallin for You", "artist": "Dierks Bentley"},
		 "originalTimestamp": %q, "sentAt": %q, "context": {"ip": "24.5.68.47", "library": {"name": "analytics-go", "version": "3.3.0"},
		 "campaign": {"name": "spring", "source": "news", "medium": "email"}, "page": {"url": "https://shop.example/song", "referrer": "https://news.example/"},
		 "locale": "en-US", "timezone": "Europe/Berlin", "screen": {"width": 1170, "height": 2532}, "os": {"name": "iOS", "version": "18.1"}}},
		{"type": "track", "anonymousId": "anon-7", "event": "Video Played", "timestamp": "2012-12-02T00:30:12.984Z"}
	], "context": {"device": {"type": "phone", "name": "Apple iPhone 6"}}}`, sent.Add(-10*time.Second).Format(time.RFC3339Nano), sent.Format(time.RFC3339Nano))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(batch))
	zw.Close()
	h := basic(serverKey)
	h["Content-Encoding"] = "gzip"
	if r := do(t, "POST", base+"/v1/batch", gz.Bytes(), h); r.status != 200 {
		t.Fatalf("gzipped batch: %d %s", r.status, r.body)
	}
	// The same track message again (a retry): stored once.
	ok("/v1/track", `{"userId": "019mr8mf4r", "event": "Item Purchased", "properties": {"name": "Leap to Conclusions Mat", "revenue": 14.99},
		"context": {"ip": "24.5.68.47"}, "timestamp": "2012-12-02T00:30:12.984Z", "messageId": "msg-track-1"}`, basic(writeKey))

	waitStored(t, dir, 9, 10*time.Second)
	evs := settled(t, dir, viaSegment(base, writeKey))
	if len(evs) != 9 {
		t.Fatalf("%d events stored", len(evs))
	}
	byName := map[string][]*schema.Event{}
	for _, e := range evs {
		byName[e.EventName] = append(byName[e.EventName], e)
		if e.Endpoint != "segment" {
			t.Errorf("%s: endpoint %q", e.EventName, e.Endpoint)
		}
	}
	tr := byName["Item Purchased"]
	if len(tr) != 1 {
		t.Fatalf("Item Purchased stored %d times, want once (the retry deduplicated)", len(tr))
	}
	e := tr[0]
	if e.UserID != "019mr8mf4r" || e.App != segmentApp || e.EventType != "track" || e.ClientTime == nil ||
		!e.ClientTime.Equal(time.Date(2012, 12, 2, 0, 30, 12, 984e6, time.UTC)) || string(e.Props["revenue"]) != "14.99" ||
		string(e.Props["message_id"]) != `"msg-track-1"` {
		t.Errorf("track: %+v props %s", e, props(e))
	}
	if e.IPHash != schema.HashIP(key, "127.0.0.1") {
		t.Errorf("an untrusted key's context.ip was believed")
	}
	id := byName["identify"]
	if len(id) != 2 || id[0].EmailHash == "" || strings.Contains(props(id[0])+props(id[1]), "pgibbons") ||
		string(id[0].Props["industry"]) != `"Technology"` && string(id[1].Props["industry"]) != `"Technology"` {
		t.Errorf("identify: %+v %+v (the e-mail kept only as its hash)", id[0], id[1])
	}
	if p := byName["page_view"]; len(p) != 1 || p[0].URL != "https://shop.example/docs" || string(p[0].Props["name"]) != `"Tracking HTTP API"` || p[0].EventType != "page" {
		t.Errorf("page: %+v", p)
	}
	if s := byName["screen_view"]; len(s) != 1 || string(s[0].Props["name"]) != `"Tracking HTTP API"` {
		t.Errorf("screen: %+v", s)
	}
	if g := byName["group"]; len(g) != 1 || string(g[0].Props["group_id"]) != `"8e9df332ac"` || string(g[0].Props["employees"]) != "420" {
		t.Errorf("group: %+v %s", g, props(g[0]))
	}
	if al := byName["alias"]; len(al) != 1 || string(al[0].Props["previous_id"]) != `"39239-239239-239239-23923"` || al[0].UserID != "019mr8mf4r" {
		t.Errorf("alias: %+v", al)
	}
	song := byName["Song Played"]
	if len(song) != 1 {
		t.Fatalf("Song Played: %d", len(song))
	}
	s := song[0]
	skew := time.Since(*s.ClientTime) - 10*time.Second // receivedAt − (sentAt − originalTimestamp) ≈ now − 10 s
	if s.UserID != "42" || s.App != "backend" || s.Campaign != "spring" || s.Source != "news" || s.Medium != "email" ||
		s.URL != "https://shop.example/song" || s.Referrer != "https://news.example/" || s.LibraryVersion != "analytics-go@3.3.0" ||
		s.Language != "en-US" || s.Timezone != "Europe/Berlin" || s.Width == nil || *s.Width != 1170 || s.OS != "iOS 18.1" ||
		s.Device != "phone" || skew < -5*time.Second || skew > 5*time.Second {
		t.Errorf("Song Played: %+v (client time off by %v)", s, skew)
	}
	if s.IPHash != schema.HashIP(key, "24.5.68.47") {
		t.Errorf("a trusted server key's context.ip was not used")
	}
	if v := byName["Video Played"]; len(v) != 1 || v[0].VisitorID != "anon-7" || v[0].Device != "phone" {
		t.Errorf("Video Played: %+v", v)
	}
}

// Every refusal the spec names, with its reason, and nothing stored.
func TestSegmentRefusals(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	big := `{"userId": "u", "event": "e", "properties": {"blob": "` + strings.Repeat("x", 33<<10) + `"}}`
	var many strings.Builder
	many.WriteString(`{"batch": [`)
	for i := 0; i < 40; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		fmt.Fprintf(&many, `{"type": "track", "userId": "u", "event": "e", "properties": {"blob": "%s"}}`, strings.Repeat("y", 15<<10))
	}
	many.WriteString("]}")
	for _, tc := range []struct {
		name, path, body string
		h                map[string]string
		code             int
		reason           string
	}{
		{"no write key", "/v1/track", `{"userId": "u", "event": "e"}`, map[string]string{"Content-Type": "application/json"}, 401, "invalid_write_key"},
		{"unknown write key", "/v1/track", `{"userId": "u", "event": "e"}`, basic("wk_unknown_000"), 401, "invalid_write_key"},
		{"write key in another case", "/v1/track", `{"userId": "u", "event": "e"}`, basic(strings.ToLower(writeKey)), 401, "invalid_write_key"},
		{"neither userId nor anonymousId", "/v1/track", `{"event": "e"}`, basic(writeKey), 400, "missing_id"},
		{"track without event", "/v1/track", `{"userId": "u"}`, basic(writeKey), 400, "missing_event"},
		{"bad json", "/v1/track", `{"userId": `, basic(writeKey), 400, "invalid_json"},
		{"event over 32 KB", "/v1/track", big, basic(writeKey), 400, "event_too_large"},
		{"batch over 500 KB", "/v1/batch", many.String(), basic(writeKey), 400, "batch_too_large"},
		{"empty batch", "/v1/batch", `{"batch": []}`, basic(writeKey), 400, "empty_batch"},
		{"unknown type in a batch", "/v1/batch", `{"batch": [{"type": "boost", "userId": "u"}]}`, basic(writeKey), 400, "invalid_events"},
		{"GET", "/v1/track", ``, basic(writeKey), 405, "method_not_allowed"},
		{"unknown call", "/v1/boost", `{}`, basic(writeKey), 404, "not_found"},
	} {
		method := "POST"
		if tc.name == "GET" {
			method = "GET"
		}
		r := do(t, method, base+tc.path, []byte(tc.body), tc.h)
		if r.status != tc.code || reason(t, r) != tc.reason {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.code, tc.reason)
		}
	}
	if evs := settled(t, dir, viaSegment(base, writeKey)); len(evs) != 0 {
		t.Errorf("refused requests stored %d events", len(evs))
	}
	// Everything refused for what it held is kept as a failed event, with
	// its reason; auth, method and path refusals are not.
	want := map[string]int{"missing_id": 1, "missing_event": 1, "invalid_json": 1, "event_too_large": 1, "batch_too_large": 1,
		"empty_batch": 1, "invalid_type": 1}
	if got := failedReasons(t, dir, 7); !reflect.DeepEqual(got, want) {
		t.Errorf("failed events by reason: %v, want %v", got, want)
	}

	// Without write keys the API is off, and says how to turn it on.
	off := start(t, testConfig(t.TempDir()))
	defer off.Stop()
	r := do(t, "POST", "http://"+off.Addr()+"/v1/track", []byte(`{"userId": "u", "event": "e"}`), basic(writeKey))
	if r.status != 404 || reason(t, r) != "segment_off" || !strings.Contains(string(r.body), "segment.write_keys") {
		t.Errorf("API off: %d %s", r.status, r.body)
	}
}

// Segment's own Node library (@segment/analytics-node, from npm) pointed at
// the collector: every call it makes is stored.
func TestSegmentAnalyticsNode(t *testing.T) {
	node := nodeModules(t, "@segment/analytics-node")
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	cmd := exec.Command(node, "send.mjs")
	cmd.Dir = "segmentnode"
	cmd.Env = append(os.Environ(), "SPOOR_URL=http://"+a.Addr(), "WRITE_KEY="+writeKey, "TRACKS=50")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("analytics-node: %v\n%s", err, out)
	}
	var res struct{ Sent, Errors int }
	if err := json.Unmarshal(bytes.TrimSpace(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:]), &res); err != nil || res.Sent != 55 {
		t.Fatalf("analytics-node said %q", out)
	}
	evs := waitStored(t, dir, res.Sent, 15*time.Second)
	names := map[string]int{}
	for _, e := range evs {
		names[e.EventName]++
		if e.App != segmentApp || !strings.HasPrefix(e.LibraryVersion, "@segment/analytics-node@") {
			t.Errorf("%s: app %q library %q", e.EventName, e.App, e.LibraryVersion)
		}
	}
	want := map[string]int{"Item Purchased": 50, "identify": 1, "page_view": 1, "screen_view": 1, "group": 1, "alias": 1}
	for n, c := range want {
		if names[n] != c {
			t.Errorf("%s stored %d times, want %d (all: %v)", n, names[n], c, names)
		}
	}
}

func props(e *schema.Event) string {
	b, _ := json.Marshal(e.Props)
	return string(b)
}

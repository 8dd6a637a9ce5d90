package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

const seedREST = "/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ROCK/ON/lat/37.232332/lon/6.32233223/first/true/score/6/ref/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/seed_rest"

const seedFailed = `{"app":"native","email":"[email protected]","uid":"179ea090-6e8c-11ea-bb89-1d0ba023ecf8","uname":null,"tz":"Europe/Warsaw","device":"Handset","os":"iOS 13.4","did":"758152C1-278C-4C80-84A0-CF771B000835","w":375,"h":667,"rel":1,"sid":"c1dcf340-6eaa-11ea-a0b8-6120e9776df7","time":1585149028377,"ename":"filter_results","etyp":"filter","ptyp":"own_rooms","page":1,"vid":"016f2740-6e8c-11ea-9f0b-5d70c66851be"}`

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Every endpoint, HTTP -> JetStream -> file store.
func TestEveryEndpointReachesTheStore(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir))
	defer a.Stop()
	base := "http://" + a.Addr()
	json := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name    string
		method  string
		path    string
		body    []byte
		headers map[string]string
		status  int
		events  int
	}{
		{"seed REST tuplets", "GET", seedREST + "?utm_source=news&utm_campaign=fall", nil, nil, 200, 1},
		{"tuplets by POST", "POST", "/tr/v1/ename/post_tuplets", nil, nil, 200, 1},
		{"seed JSON with numbers", "POST", "/tr/v1/", []byte(seedFailed), json, 200, 1},
		{"batch text/plain (beacon)", "POST", "/tr/v1/", []byte(`[{"ename":"b1"},{"ename":"b2","n":2},{"ename":"b3"}]`), map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, 200, 3},
		{"gzip batch", "POST", "/tr/v1/", gz(t, []byte(`[{"ename":"gz1"},{"ename":"gz2"}]`)), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, 200, 2},
		{"tuplets merged with body", "POST", "/tr/v1/app/shop", []byte(`{"ename":"merged"}`), json, 200, 1},
		{"server side", "POST", "/str/v1/", []byte(`{"ename":"server_purchase","ua":"Mozilla/5.0 (real user)","props":{"total":19.99}}`), json, 200, 1},
		{"pixel", "GET", "/img/v1/ename/email_open/xid/x1", nil, nil, 200, 1},
		{"redirect", "GET", "/rdr/v1/ename/link_click?url=https%3A%2F%2Fshop.example%2Fdeal", nil, nil, 302, 1},
	}
	want := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.method, base+c.path, c.body, c.headers)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
		})
		want += c.events
	}
	evs := byName(waitStored(t, dir, want, 20*time.Second))

	rest := evs["seed_rest"]
	if rest == nil || rest.VisitorID != "14fb0860-b4bf-11e9-8971-7b80435315ac" || *rest.Lat != 37.232332 || rest.Source != "news" ||
		rest.Campaign != "fall" || string(rest.Props["ROCK"]) != `"ON"` || !*rest.First || *rest.Score != 6 {
		t.Errorf("seed REST event wrong: %+v", rest)
	}
	f := evs["filter_results"]
	if f == nil || string(f.Release) != "1" || string(f.Props["page"]) != "1" || *f.Width != 375 {
		t.Errorf("seed JSON must keep numbers as numbers: %+v", f)
	}
	if evs["b2"] == nil || string(evs["b2"].Props["n"]) != "2" || evs["gz2"] == nil {
		t.Errorf("batch events missing: %v", evs)
	}
	if m := evs["merged"]; m == nil || m.App != "shop" {
		t.Errorf("tuplets and body not merged: %+v", m)
	}
	if s := evs["server_purchase"]; s == nil || s.UserAgent != "Mozilla/5.0 (real user)" || s.Endpoint != "str" || string(s.Props["total"]) != "19.99" {
		t.Errorf("server-side event wrong: %+v", s)
	}
	if p := evs["email_open"]; p == nil || p.Endpoint != "img" || p.ExperimentID != "x1" {
		t.Errorf("pixel event wrong: %+v", p)
	}
	if l := evs["link_click"]; l == nil || l.URL != "https://shop.example/deal" || l.Endpoint != "rdr" {
		t.Errorf("redirect event wrong: %+v", l)
	}
	for _, e := range evs {
		if e.IPHash == "" || len(e.EventID) != 36 || e.ReceivedAt.IsZero() {
			t.Errorf("server fields missing: %+v", e)
		}
	}
}

func TestSameEventIDStoredOnce(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir))
	defer a.Stop()
	id := schema.NewEventID()
	for i := 0; i < 3; i++ { // a client retrying the same event
		r := do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte(ndEvent("retry", id)), nil)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	other := schema.NewEventID()
	do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte(fmt.Sprintf("[%s,%s]", ndEvent("x", other), ndEvent("x", other))), nil)
	evs := settled(t, dir, viaTrack("http://"+a.Addr()))
	if len(evs) != 2 {
		t.Fatalf("store holds %d events, want 2", len(evs))
	}
	for _, e := range evs {
		if e.EventID != id && e.EventID != other {
			t.Fatalf("unexpected id %s", e.EventID)
		}
	}
}

func TestErrorsAnswerClearly(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.HTTP.MaxBodyBytes = 64 << 10
	cfg.HTTP.MaxDecompressedBytes = 256 << 10
	cfg.Collector.MaxBatchEvents = 5
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	bomb := gz(t, bytes.Repeat([]byte(" "), 50<<20)) // 50 MiB of spaces, ~50 KiB compressed
	cases := []struct {
		name    string
		method  string
		path    string
		body    []byte
		headers map[string]string
		status  int
		reason  string
	}{
		{"malformed JSON", "POST", "/tr/v1/", []byte(`{"ename":`), nil, 400, "invalid_json"},
		{"batch element not object", "POST", "/tr/v1/", []byte(`[{"a":1},3]`), nil, 400, "invalid_json"},
		{"bad field type", "POST", "/tr/v1/", []byte(`{"w":"wide"}`), nil, 400, "invalid_field"},
		{"body too large", "POST", "/tr/v1/", bytes.Repeat([]byte("x"), 100<<10), nil, 413, "body_too_large"},
		{"gzip bomb", "POST", "/tr/v1/", bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "decompressed_too_large"},
		{"not gzip", "POST", "/tr/v1/", []byte("plain"), map[string]string{"Content-Encoding": "gzip"}, 400, "invalid_gzip"},
		{"batch too large", "POST", "/tr/v1/", []byte(`[{},{},{},{},{},{}]`), nil, 413, "batch_too_large"},
		{"unsupported type", "POST", "/tr/v1/", []byte(`<xml/>`), map[string]string{"Content-Type": "application/xml"}, 415, "unsupported_media_type"},
		{"unknown path", "GET", "/nope", nil, nil, 404, "not_found"},
		{"wrong method", "DELETE", "/tr/v1/", nil, nil, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.method, base+c.path, c.body, c.headers)
			if r.status != c.status || reason(t, r) != c.reason {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.reason)
			}
		})
	}
	t.Run("huge headers", func(t *testing.T) {
		r := do(t, "GET", base+"/tr/v1/ename/x", nil, map[string]string{"Cookie": strings.Repeat("a", 40<<10)})
		if r.status != 431 || reason(t, r) != "headers_too_large" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("bad tuplet escape", func(t *testing.T) {
		got := raw(t, a.Addr(), "GET /tr/v1/ename/%zz HTTP/1.1\r\nHost: x\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 400") || !strings.Contains(got, `"reason":"invalid_path"`) {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("pixel with bad escape still answers a GIF", func(t *testing.T) {
		got := raw(t, a.Addr(), "GET /img/v1/w/%zz HTTP/1.1\r\nHost: x\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 200") || !strings.Contains(got, "image/gif") || !strings.Contains(got, "GIF89a") {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("pixel with bad input still answers a GIF", func(t *testing.T) {
		r := do(t, "GET", base+"/img/v1/w/wide/h/tall", nil, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/gif" || !bytes.HasPrefix(r.body, []byte("GIF89a")) ||
			!strings.Contains(r.header.Get("Cache-Control"), "no-store") {
			t.Fatalf("got %d %v %q", r.status, r.header, r.body)
		}
	})
	t.Run("no open redirect", func(t *testing.T) {
		for _, target := range []string{"https://evil.example/", "//evil.example/", "javascript:alert(1)", ""} {
			r := do(t, "GET", base+"/rdr/v1/ename/x?url="+target, nil, nil)
			if r.status != 302 || r.header.Get("Location") != base+"/" && r.header.Get("Location") != "/" {
				t.Fatalf("%q: got %d Location=%q", target, r.status, r.header.Get("Location"))
			}
		}
		r := do(t, "GET", base+"/rdr/v1/ename/x?url=https://a.partner.example/x", nil, nil)
		if r.header.Get("Location") != "https://a.partner.example/x" {
			t.Fatalf("allowed subdomain refused: %q", r.header.Get("Location"))
		}
	})
	t.Run("health", func(t *testing.T) {
		for path, want := range map[string]string{"/ping": "pong", "/healthz": `"ok"`, "/readyz": `"ready":true`, "/metrics": "spoor_collector_rejected_total"} {
			r := do(t, "GET", base+path, nil, nil)
			if r.status != 200 || !strings.Contains(string(r.body), want) {
				t.Fatalf("%s: %d %.200s", path, r.status, r.body)
			}
		}
	})
}

// The handler panics must not leak anything; a malformed request line gets 400.
func TestGarbageRequest(t *testing.T) {
	a := start(t, testConfig(t.TempDir()))
	defer a.Stop()
	if got := raw(t, a.Addr(), "\x00\x01garbage\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Fatalf("got %q", got)
	}
}

// raw sends one request as bytes and returns the response as text.
func raw(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte(req))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	return string(buf[:n])
}

// Concurrent requests share bus messages (collector/group.go); whatever
// the grouping, every request is answered and every event stored once, and
// a client retrying its own event id concurrently still gets one copy.
func TestConcurrentRequestsStoredOnce(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir))
	defer a.Stop()
	const workers, each = 32, 40
	retried := schema.NewEventID()
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var body string
				switch i % 4 {
				case 0: // a batch with ids of its own
					body = fmt.Sprintf("[%s,%s]", ndEvent(fmt.Sprintf("b-%d-%d-0", w, i), schema.NewEventID()),
						ndEvent(fmt.Sprintf("b-%d-%d-1", w, i), schema.NewEventID()))
				case 1: // the same client event, retried by everyone
					body = ndEvent("retried", retried)
				default: // ids assigned by the server
					body = fmt.Sprintf(`{"ename":"s-%d-%d"}`, w, i)
				}
				r := doQuiet("POST", "http://"+a.Addr()+"/tr/v1/", []byte(body))
				if r != 200 {
					errs <- fmt.Sprintf("worker %d request %d: status %d", w, i, r)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	want := workers * each / 4 * (2 + 2) // batches of 2, plus two server-id singles per 4 requests
	want++                               // the retried event
	waitStored(t, dir, want, 20*time.Second)
	evs := settled(t, dir, viaTrack("http://"+a.Addr()))
	if len(evs) != want {
		t.Fatalf("store holds %d events, want %d", len(evs), want)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.EventName] && e.EventName != "retried" {
			t.Fatalf("%s stored twice", e.EventName)
		}
		seen[e.EventName] = true
	}
	r := do(t, "GET", "http://"+a.Addr()+"/metrics", nil, nil)
	for _, l := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(l, "spoor_sink_messages_total") {
			t.Logf("%d requests → %s", workers*each, l) // fewer messages than requests: groups formed
		}
	}
}

// doQuiet posts body and returns the status, or 0 when the request failed;
// safe to call from any goroutine.
func doQuiet(method, url string, body []byte) int {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
)

// echoHeaders answers with the request's headers as the backend saw them.
func echoHeaders(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "X-Secret-Hop")
	w.Header().Set("X-Secret-Hop", "leak")
	for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Via", "X-Custom-Hop", "Proxy-Authorization", "Keep-Alive"} {
		fmt.Fprintf(w, "%s=%s\n", h, strings.Join(r.Header.Values(h), "|"))
	}
	fmt.Fprintf(w, "Host=%s\n", r.Host)
}

func parseEcho(t *testing.T, body string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		k, v, _ := strings.Cut(line, "=")
		out[k] = v
	}
	return out
}

// The forwarded headers: a peer that is not a trusted proxy cannot spoof
// the client's address (the older Tracker believed any X-Forwarded-For);
// a trusted one's chain is kept and extended. Hop-by-hop headers never
// pass either way.
func TestForwardedHeaders(t *testing.T) { eachEngine(t, testForwardedHeaders) }

func testForwardedHeaders(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(echoHeaders))
	defer backend.Close()
	for _, tc := range []struct {
		name      string
		trusted   []string
		xff       string
		wantXFF   string
		wantProto string
		wantHost  string
		wantIP    string // the client address the event is hashed from
	}{
		{name: "untrusted peer, spoofed header", xff: "203.0.113.9", wantXFF: "127.0.0.1", wantProto: "http", wantHost: "site.example", wantIP: "127.0.0.1"},
		{name: "untrusted peer, no header", wantXFF: "127.0.0.1", wantProto: "http", wantHost: "site.example", wantIP: "127.0.0.1"},
		{name: "trusted peer", trusted: []string{"127.0.0.0/8"}, xff: "203.0.113.9", wantXFF: "203.0.113.9, 127.0.0.1", wantProto: "https",
			wantHost: "front.example", wantIP: "203.0.113.9"},
		{name: "trusted peer, spoofed left of a client", trusted: []string{"127.0.0.0/8"}, xff: "198.51.100.1, 203.0.113.9",
			wantXFF: "198.51.100.1, 203.0.113.9, 127.0.0.1", wantProto: "https", wantHost: "front.example", wantIP: "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(backend.URL)
			o.TrustedProxies = cidrs(t, tc.trusted...)
			tr := &hits{}
			px := start(t, e, o, tr)
			req, _ := http.NewRequest("GET", px.URL+"/page", nil)
			req.Host = "site.example"
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "front.example")
			req.Header.Set("Connection", "X-Custom-Hop")
			req.Header.Set("X-Custom-Hop", "1")
			req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := parseEcho(t, string(body))
			for k, want := range map[string]string{"X-Forwarded-For": tc.wantXFF, "X-Forwarded-Proto": tc.wantProto,
				"X-Forwarded-Host": tc.wantHost, "Via": "1.1 spoor", "X-Custom-Hop": "", "Proxy-Authorization": "", "Host": "site.example"} {
				if got[k] != want {
					t.Errorf("backend saw %s %q, want %q", k, got[k], want)
				}
			}
			if v := resp.Header.Get("X-Secret-Hop"); v != "" {
				t.Errorf("a hop-by-hop response header reached the client: %q", v)
			}
			if v := resp.Header.Get("Via"); v != "1.1 spoor" {
				t.Errorf("response Via %q", v)
			}
			if h := tr.waitHits(t, 1)[0]; h.IP != tc.wantIP {
				t.Errorf("event IP %q, want %q", h.IP, tc.wantIP)
			}
		})
	}
}

// Each proxied request becomes one event with what a Snowplow or Segment
// user expects of a server-side page record; paths the filter excludes
// pass without one.
func TestTrackedEvent(t *testing.T) { eachEngine(t, testTrackedEvent) }

func testTrackedEvent(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "read %d", n)
	}))
	defer backend.Close()
	tr := &hits{}
	px := start(t, e, testOptions(backend.URL), tr)
	req, _ := http.NewRequest("POST", px.URL+"/cart/add?sku=42", strings.NewReader("0123456789"))
	req.Header.Set("Referer", "https://site.example/p/42")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
	req.AddCookie(&http.Cookie{Name: "vid", Value: "v-123"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, p := range []string{"/style.css", "/app.js", "/logo.PNG"} {
		r, err := http.Get(px.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	h := tr.waitHits(t, 1)[0]
	for name, want := range map[string]string{"ename": "http_request", "etyp": "server", "method": "POST", "path": "/cart/add",
		"status": "201", "bytes_in": "10", "bytes_out": "7", "app": "site", "last": "https://site.example/p/42"} {
		if got := field(h, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if u := field(h, "url"); !strings.HasSuffix(u, "/cart/add?sku=42") {
		t.Errorf("url %q", u)
	}
	if h.VisitorID != "v-123" || !strings.Contains(h.UserAgent, "Firefox") || h.Endpoint != "proxy" {
		t.Errorf("hit %+v", h)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(tr.all()); n != 1 {
		t.Errorf("tracked %d events, want 1 (static assets are excluded)", n)
	}
	if n := px.events("excluded"); n != 3 {
		t.Errorf("excluded %v, want 3", n)
	}
}

// Tracking never delays or fails a request: with the tracker stuck, the
// queue fills and further events are counted lost while every request is
// answered; once the tracker moves again, every event is either tracked or
// counted lost, none vanishes. With the tracker failing, each loss is
// counted.
func TestTrackingNeverBlocksRequests(t *testing.T) { eachEngine(t, testTrackingNeverBlocksRequests) }

func testTrackingNeverBlocksRequests(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer backend.Close()
	stuck := &hits{wait: make(chan struct{})}
	o := testOptions(backend.URL)
	o.QueueSize = 5
	px := start(t, e, o, stuck)
	released := false
	t.Cleanup(func() {
		if !released {
			close(stuck.wait)
		}
	})
	// The workers and the gatherer hold at most 5 batches of maxBatch
	// events, the queue 5 more: past that, events are lost.
	sent, began := 0, time.Now()
	for ; px.events("lost_queue_full") < 10 && sent < 5*maxBatch+200; sent++ {
		resp, err := http.Get(px.URL + "/page")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", sent, resp, err)
		}
		resp.Body.Close()
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("%d requests took %v with the tracker stuck", sent, d)
	}
	if lost := px.events("lost_queue_full"); lost < 10 {
		t.Fatalf("lost_queue_full %v after %d requests with the tracker stuck, want at least 10", lost, sent)
	}
	close(stuck.wait)
	released = true
	deadline := time.Now().Add(5 * time.Second)
	for float64(len(stuck.all()))+px.events("lost_queue_full") < float64(sent) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got, lost := len(stuck.all()), px.events("lost_queue_full"); float64(got)+lost != float64(sent) {
		t.Errorf("%d requests: %d events tracked + %v counted lost", sent, got, lost)
	}

	failing := &hits{fail: errors.New("nats: no responders")}
	px2 := start(t, e, testOptions(backend.URL), failing)
	for range 10 {
		resp, err := http.Get(px2.URL + "/page")
		if err != nil || resp.StatusCode != 200 {
			t.Fatal(resp, err)
		}
		resp.Body.Close()
	}
	deadline = time.Now().Add(5 * time.Second)
	for px2.events("lost_unavailable") < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := px2.events("lost_unavailable"); n != 10 {
		t.Errorf("lost_unavailable %v, want 10", n)
	}
}

// Round robin over healthy upstreams; a refused connection takes its
// upstream out of rotation (passive) and the request is retried on
// another, so the client never sees the dead one.
func TestUpstreamsPassiveHealth(t *testing.T) { eachEngine(t, testUpstreamsPassiveHealth) }

func testUpstreamsPassiveHealth(t *testing.T, e engine) {
	var seen [2]atomic.Int64
	mk := func(i int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen[i].Add(1) }))
	}
	a, b := mk(0), mk(1)
	defer a.Close()
	defer b.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // nothing listens there now: connections are refused
	px := start(t, e, testOptions(a.URL, deadURL, b.URL), &hits{})
	for i := range 40 {
		resp, err := http.Get(px.URL + "/x")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	if a, b := seen[0].Load(), seen[1].Load(); a+b != 40 || a < 18 || b < 18 {
		t.Errorf("upstreams answered %d and %d, want about 20 each", a, b)
	}
	if px.p.pool.ups[1].healthy(time.Now()) {
		t.Error("the refusing upstream is still in rotation")
	}
}

// Active checks take an upstream whose health path fails out of rotation
// and bring it back when it passes again.
func TestUpstreamsActiveHealth(t *testing.T) { eachEngine(t, testUpstreamsActiveHealth) }

func testUpstreamsActiveHealth(t *testing.T, e engine) {
	var sick = make(chan bool, 1)
	sick <- true
	isSick := func() bool { v := <-sick; sick <- v; return v }
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && isSick() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer b.Close()
	o := testOptions(a.URL, b.URL)
	o.HealthPath = "/health"
	px := start(t, e, o, &hits{})
	waitFor(t, func() bool { return !px.p.pool.ups[0].healthy(time.Now()) }, "the failing upstream leaves rotation")
	<-sick
	sick <- false
	waitFor(t, func() bool { return px.p.pool.ups[0].healthy(time.Now()) }, "the recovered upstream returns")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// text/event-stream is flushed event by event: the client reads the first
// event while the backend is still holding the response open.
func TestEventStreamFlushes(t *testing.T) { eachEngine(t, testEventStreamFlushes) }

func testEventStreamFlushes(t *testing.T, e engine) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "data: second\n\n")
	}))
	defer backend.Close()
	defer close(release)
	px := start(t, e, testOptions(backend.URL), &hits{})
	resp, err := http.Get(px.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "data: first\n" {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the first event did not arrive while the stream was open: the proxy buffered it")
	}
}

// A WebSocket upgrade passes through: after the 101 the proxy is a pipe.
func TestWebSocketUpgradePasses(t *testing.T) { eachEngine(t, testWebSocketUpgradePasses) }

func testWebSocketUpgradePasses(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "not an upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(brw, buf); err == nil {
			conn.Write([]byte(strings.ToUpper(string(buf))))
		}
	}))
	defer backend.Close()
	tr := &hits{}
	px := start(t, e, testOptions(backend.URL), tr)
	conn, err := net.Dial("tcp", strings.TrimPrefix(px.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "GET /ws HTTP/1.1\r\nHost: site.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	conn.Write([]byte("hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "HELLO" {
		t.Fatalf("echo %q %v", got, err)
	}
	conn.Close()
	if h := tr.waitHits(t, 1)[0]; field(h, "status") != "101" {
		t.Errorf("tracked status %s, want 101", field(h, "status"))
	}
}

// First-party mode: the collector's browser endpoints under the prefix go
// to the collector with the prefix removed and the client's address in
// X-Forwarded-For; anything else under the prefix goes to the backend.
func TestFirstParty(t *testing.T) { eachEngine(t, testFirstParty) }

func testFirstParty(t *testing.T, e engine) {
	coll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "collector %s xff=%s", r.URL.EscapedPath(), r.Header.Get("X-Forwarded-For"))
	}))
	defer coll.Close()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "backend %s", r.URL.Path) }))
	defer backend.Close()
	o := testOptions(backend.URL)
	o.FirstPartyPrefix = "/_e"
	o.Collector, _ = (&http.Request{}).URL.Parse(coll.URL)
	px := start(t, e, o, &hits{})
	for path, want := range map[string]string{
		"/_e/tr/v1/ename/click/vid/v%2F1": "collector /tr/v1/ename/click/vid/v%2F1 xff=127.0.0.1",
		"/_e/sdk/spoor.js":                "collector /sdk/spoor.js xff=127.0.0.1",
		"/_e/str/v1/":                     "backend /_e/str/v1/", // server-side events are not for browsers
		"/_e/tr/v1x":                      "backend /_e/tr/v1x",
		"/shop":                           "backend /shop",
	} {
		resp, err := http.Get(px.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%s: got %q, want %q", path, b, want)
		}
	}
}

// The queue is bounded in bytes too: large events fill it sooner than its
// count, and are counted lost rather than held.
func TestQueueBoundInBytes(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(1000, 64<<10, 1, &hits{}, m, zerolog.Nop())
	big := schema.Hit{Endpoint: "proxy", UserAgent: strings.Repeat("u", 8000),
		Fields: []schema.HitField{{Name: "url", Value: schema.TextValue(strings.Repeat("/x", 4000))}}}
	kept := 0
	for i := 0; i < 100; i++ {
		q.enqueue(big)
		if q.pending() > kept {
			kept = q.pending()
		}
	}
	if want := (64 << 10) / big.Size(); kept != want {
		t.Fatalf("kept %d events of %d bytes in a 64 KiB queue, want %d", kept, big.Size(), want)
	}
	if got := testutil.ToFloat64(m.events.WithLabelValues("lost_queue_full")); got != float64(100-kept) {
		t.Fatalf("lost %v, want %d", got, 100-kept)
	}
	if b := q.take(); len(b) != kept || q.bytes != 0 {
		t.Fatalf("take: %d events, %d bytes left", len(b), q.bytes)
	}
}

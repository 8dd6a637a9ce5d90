package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// semanticsBackend answers what it was sent, and a few answers a proxy
// must pass as they are; slow counts the requests for /slow.
func semanticsBackend(slow *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { answerAsSent(w, r, slow) }
}

func answerAsSent(w http.ResponseWriter, r *http.Request, slow *atomic.Int32) {
	switch r.URL.Path {
	case "/nocontent":
		w.WriteHeader(http.StatusNoContent)
		return
	case "/notmodified":
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNotModified)
		return
	case "/cookies":
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/shop")
		w.Header().Add("X-Dup", "one")
		w.Header().Add("X-Dup", "two")
		return
	case "/stream":
		w.Write([]byte("part one, "))
		w.(http.Flusher).Flush()
		w.Write([]byte("part two"))
		return
	case "/ws-refused":
		http.Error(w, "no websocket here", http.StatusBadRequest)
		return
	case "/slow":
		slow.Add(1)
		time.Sleep(1500 * time.Millisecond)
		return
	case "/head":
		w.Header().Set("Content-Length", "1234")
		if r.Method != http.MethodHead {
			w.Write(make([]byte, 1234))
		}
		return
	}
	b, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s te=%s len=%d body=%q multi=%s proto=%s",
		r.Method, r.RequestURI, strings.Join(r.TransferEncoding, ","), r.ContentLength, b, strings.Join(r.Header.Values("X-Multi"), "|"), r.Proto)
}

// What passes is HTTP as the client and the backend sent it, on both
// engines: a HEAD's length, bodies of unknown length, 100-continue,
// repeated headers and cookies, statuses without a body, an upstream's
// base path, escaped paths and queries untouched, and a slow upstream
// answered 504 with a reason.
func TestPassesHTTPAsSent(t *testing.T) { eachEngine(t, testPassesHTTPAsSent) }

func testPassesHTTPAsSent(t *testing.T, e engine) {
	var slow atomic.Int32
	backend := httptest.NewServer(semanticsBackend(&slow))
	defer backend.Close()
	o := testOptions(backend.URL)
	o.ResponseHeaderTimeout = 300 * time.Millisecond
	px := start(t, e, o, &hits{})
	ob := testOptions(backend.URL + "/base/")
	based := start(t, e, ob, &hits{})
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}

	do := func(t *testing.T, base, method, path string, body io.Reader, hdr http.Header) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	t.Run("HEAD keeps the length and sends no body", func(t *testing.T) {
		resp, body := do(t, px.URL, http.MethodHead, "/head", nil, nil)
		if resp.StatusCode != 200 || resp.ContentLength != 1234 || body != "" {
			t.Fatalf("status %d length %d body %q", resp.StatusCode, resp.ContentLength, body)
		}
	})
	t.Run("a body of unknown length", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() { pw.Write([]byte("hello ")); pw.Write([]byte("chunked")); pw.Close() }()
		_, body := do(t, px.URL, http.MethodPost, "/up", pr, nil)
		if !strings.Contains(body, `body="hello chunked"`) {
			t.Fatalf("backend saw %s", body)
		}
	})
	t.Run("Expect: 100-continue", func(t *testing.T) {
		_, body := do(t, px.URL, http.MethodPut, "/up", strings.NewReader("after continue"), http.Header{"Expect": {"100-continue"}})
		if !strings.Contains(body, `PUT /up te= len=14 body="after continue"`) {
			t.Fatalf("backend saw %s", body)
		}
	})
	t.Run("repeated request headers", func(t *testing.T) {
		_, body := do(t, px.URL, http.MethodGet, "/h", nil, http.Header{"X-Multi": {"a", "b"}})
		if !strings.Contains(body, "multi=a|b") {
			t.Fatalf("backend saw %s", body)
		}
	})
	t.Run("repeated response headers and cookies", func(t *testing.T) {
		resp, _ := do(t, px.URL, http.MethodGet, "/cookies", nil, nil)
		if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1; Path=/" || got[1] != "b=2; Path=/shop" {
			t.Errorf("Set-Cookie %q", got)
		}
		if got := resp.Header.Values("X-Dup"); strings.Join(got, ",") != "one,two" {
			t.Errorf("X-Dup %q", got)
		}
	})
	t.Run("statuses without a body", func(t *testing.T) {
		if resp, body := do(t, px.URL, http.MethodGet, "/nocontent", nil, nil); resp.StatusCode != 204 || body != "" {
			t.Errorf("204: %d %q", resp.StatusCode, body)
		}
		if resp, body := do(t, px.URL, http.MethodGet, "/notmodified", nil, nil); resp.StatusCode != 304 || body != "" || resp.Header.Get("ETag") != `"v1"` {
			t.Errorf("304: %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
	t.Run("escaped path and query as sent", func(t *testing.T) {
		_, body := do(t, px.URL, http.MethodGet, "/a%2Fb/../c?x=%20y&z", nil, nil)
		if !strings.HasPrefix(body, "GET /a%2Fb/../c?x=%20y&z ") {
			t.Fatalf("backend saw %s", body)
		}
	})
	t.Run("an upstream's base path", func(t *testing.T) {
		_, body := do(t, based.URL, http.MethodGet, "/x?q=1", nil, nil)
		if !strings.HasPrefix(body, "GET /base/x?q=1 ") {
			t.Fatalf("backend saw %s", body)
		}
	})
	t.Run("a slow upstream", func(t *testing.T) {
		resp, body := do(t, px.URL, http.MethodGet, "/slow", nil, nil)
		if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, "upstream_unavailable") {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		if n := slow.Load(); n != 1 { // a request that timed out is not sent again
			t.Fatalf("the slow upstream got the request %d times", n)
		}
	})
	t.Run("an HTTP/1.0 client gets no chunks", func(t *testing.T) {
		raw := http10(t, px.URL, "/stream")
		head, body, _ := strings.Cut(raw, "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.0 200 OK\r\n") || strings.Contains(strings.ToLower(head), "chunked") || body != "part one, part two" {
			t.Fatalf("answer %q", raw)
		}
		// and upstream the proxy speaks HTTP/1.1 (keep-alive, chunks) whatever the client spoke
		if raw := http10(t, px.URL, "/echo"); !strings.HasSuffix(raw, "proto=HTTP/1.1") {
			t.Fatalf("upstream request: %q", raw)
		}
	})
	t.Run("an upgrade the upstream refuses", func(t *testing.T) {
		resp, body := do(t, px.URL, http.MethodGet, "/ws-refused", nil,
			http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}})
		if resp.StatusCode != http.StatusBadRequest || body != "no websocket here\n" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
}

// http10 sends GET path as HTTP/1.0 and returns the whole answer, which
// ends when the connection does.
func http10(t *testing.T, base, path string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: site.example\r\n\r\n", path)
	raw, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// An upstream that drops a kept-alive connection without answering: a
// POST on it is answered 502 and never sent a second time (it may have
// been acted on); net/http's rule, on both engines.
func TestDroppedPostIsNotSentAgain(t *testing.T) { eachEngine(t, testDroppedPostIsNotSentAgain) }

func testDroppedPostIsNotSentAgain(t *testing.T, e engine) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var posts atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, r.Body)
					if r.URL.Path == "/drop" {
						if r.Method == http.MethodPost {
							posts.Add(1)
						}
						return // closed, no answer
					}
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				}
			}()
		}
	}()
	px := start(t, e, testOptions("http://"+ln.Addr().String()), &hits{})
	if resp, err := http.Get(px.URL + "/warm"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("warm-up: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err := http.Post(px.URL+"/drop", "application/x-www-form-urlencoded", strings.NewReader("order=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	if n := posts.Load(); n != 1 {
		t.Fatalf("the upstream got the POST %d times", n)
	}
}

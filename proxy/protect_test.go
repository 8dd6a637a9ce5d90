package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/blocklist"
)

func blockList(t *testing.T, lines string) *blocklist.List {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blocked.txt")
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := blocklist.Open(path, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A blocked address or visitor is passed on (the site is not ours to
// close) but never tracked, and counted.
func TestBlockedClientsAreNotTracked(t *testing.T) { eachEngine(t, testBlockedClientsAreNotTracked) }

func testBlockedClientsAreNotTracked(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	for _, tc := range []struct {
		name, list, cookie string
		tracked            bool
	}{
		{name: "blocked address", list: "127.0.0.0/8\n"},
		{name: "blocked visitor", list: "vid:v-scraper\n", cookie: "v-scraper"},
		{name: "other visitor", list: "vid:v-scraper\n", cookie: "v-human", tracked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(backend.URL)
			o.Blocked = blockList(t, tc.list)
			tr := &hits{}
			px := start(t, e, o, tr)
			req, _ := http.NewRequest("GET", px.URL+"/page", nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "vid", Value: tc.cookie})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%v %v", resp, err)
			}
			resp.Body.Close()
			if tc.tracked {
				tr.waitHits(t, 1)
				return
			}
			time.Sleep(50 * time.Millisecond)
			if n := len(tr.all()); n != 0 || px.events("blocked") != 1 {
				t.Errorf("tracked %d, blocked %v; want 0 and 1", n, px.events("blocked"))
			}
		})
	}
}

// The per-address rate limit answers 429 with a JSON reason once the
// burst is spent.
func TestProxyRateLimit(t *testing.T) { eachEngine(t, testProxyRateLimit) }

func testProxyRateLimit(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	o := testOptions(backend.URL)
	o.RateLimitPerIP, o.RateBurstPerIP = 0.001, 3
	px := start(t, e, o, &hits{})
	var codes []int
	var last *http.Response
	for range 5 {
		resp, err := http.Get(px.URL + "/page")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
		last = resp
		if resp.StatusCode == 200 {
			resp.Body.Close()
		}
	}
	if codes[2] != 200 || codes[3] != 429 || codes[4] != 429 {
		t.Fatalf("answers %v, want 3 x 200 then 429", codes)
	}
	body, _ := io.ReadAll(last.Body)
	last.Body.Close()
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil || m["reason"] != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("429 body %q, Retry-After %q", body, last.Header.Get("Retry-After"))
	}
}

// The first-party visitor cookie on tracked pages: set by the server when
// the request has none (HttpOnly, SameSite=Lax, Secure behind HTTPS),
// refreshed when it has one, never on a response a shared cache may keep,
// and the event carries the same visitor.
func TestVisitorCookie(t *testing.T) { eachEngine(t, testVisitorCookie) }

func testVisitorCookie(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cached" {
			w.Header().Set("Cache-Control", "public, max-age=600")
		}
	}))
	defer backend.Close()
	o := testOptions(backend.URL)
	o.VisitorCookie = &VisitorCookie{Domain: "shop.example", MaxAge: 400 * 24 * time.Hour, HTTPOnly: true}
	o.TrustedProxies = cidrs(t, "127.0.0.0/8")
	tr := &hits{}
	px := start(t, e, o, tr)
	get := func(path string, h map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", px.URL+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := get("/page", nil)
	ck := first.Cookies()
	if len(ck) != 1 || ck[0].Name != "vid" || ck[0].Value == "" || !ck[0].HttpOnly || ck[0].Secure ||
		ck[0].SameSite != http.SameSiteLaxMode || ck[0].MaxAge != 400*24*3600 || ck[0].Domain != "shop.example" || ck[0].Path != "/" {
		t.Fatalf("Set-Cookie %q", first.Header.Values("Set-Cookie"))
	}
	if h := tr.waitHits(t, 1)[0]; h.VisitorID != ck[0].Value {
		t.Errorf("event visitor %q, cookie %q", h.VisitorID, ck[0].Value)
	}
	again := get("/page", map[string]string{"Cookie": "vid=v-known", "X-Forwarded-Proto": "https"})
	if c := again.Cookies(); len(c) != 1 || c[0].Value != "v-known" || !c[0].Secure {
		t.Errorf("refresh behind HTTPS: %q", again.Header.Values("Set-Cookie"))
	}
	if h := tr.waitHits(t, 2)[1]; h.VisitorID != "v-known" {
		t.Errorf("event visitor %q", h.VisitorID)
	}
	if c := get("/cached", nil).Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("a publicly cacheable answer got %q", c)
	}
	if c := get("/app.js", nil).Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("an untracked static file got %q", c)
	}
}

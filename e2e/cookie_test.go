package e2e

import (
	"net/http"
	"testing"
	"time"
)

func visitorCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "vid" {
			return c
		}
	}
	return nil
}

// The collector's first-party visitor cookie: the SDK's visitor becomes
// the cookie, a request without any visitor gets a new one (and its
// events carry it), a later request's cookie is its events' visitor even
// when the page's storage was wiped and the SDK made a new id, HTTPS
// behind a trusted proxy makes it Secure, server-side events get none.
func TestVisitorCookieInTheCollector(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()

	r := do(t, "GET", base+"/tr/v1/ename/first/vid/v-sdk", nil, nil)
	c := visitorCookie(t, r)
	if r.status != 200 || c == nil || c.Value != "v-sdk" || !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode ||
		c.MaxAge != 400*24*3600 || c.Path != "/" {
		t.Fatalf("%d Set-Cookie %q", r.status, r.header.Values("Set-Cookie"))
	}
	r = do(t, "GET", base+"/img/v1/ename/anonymous_open", nil, map[string]string{"X-Forwarded-Proto": "https"})
	fresh := visitorCookie(t, r)
	if fresh == nil || len(fresh.Value) != 36 || !fresh.Secure {
		t.Fatalf("a request without a visitor: Set-Cookie %q", r.header.Values("Set-Cookie"))
	}
	r = do(t, "POST", base+"/tr/v1/", []byte(`{"ename":"after_wipe","vid":"v-new-storage"}`), map[string]string{"Cookie": "vid=v-sdk"})
	if c := visitorCookie(t, r); r.status != 200 || c == nil || c.Value != "v-sdk" {
		t.Fatalf("refresh: %d %q", r.status, r.header.Values("Set-Cookie"))
	}
	r = do(t, "POST", base+"/str/v1/", []byte(`{"ename":"server_side","vid":"v-srv"}`), nil)
	if r.status != 200 || len(r.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("server-side: %d %q", r.status, r.header.Values("Set-Cookie"))
	}
	// consent(false) in the SDK: the cookie scripts cannot delete is expired.
	r = do(t, "POST", base+"/tr/v1/forget", nil, map[string]string{"Cookie": "vid=v-sdk"})
	if c := visitorCookie(t, r); r.status != 200 || c == nil || c.Value != "" || c.MaxAge >= 0 {
		t.Fatalf("forget: %d %q", r.status, r.header.Values("Set-Cookie"))
	}
	evs := byName(waitStored(t, dir, 4, 10*time.Second))
	for name, want := range map[string]string{"first": "v-sdk", "anonymous_open": fresh.Value, "after_wipe": "v-sdk", "server_side": "v-srv"} {
		if e := evs[name]; e == nil || e.VisitorID != want {
			t.Errorf("%s: visitor %v, want %s", name, e, want)
		}
	}
}

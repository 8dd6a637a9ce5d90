package e2e

import (
	"bytes"
	"testing"

	"github.com/spoor-dev/spoor/sdk"
)

// The collector serves the committed SDK build, cacheable, revalidated by
// ETag, and immutable under its version.
func TestCollectorServesTheSDK(t *testing.T) {
	cfg := testConfig(t.TempDir())
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	cases := []struct {
		path   string
		status int
		body   []byte
		cache  string
	}{
		{"/sdk/spoor.js", 200, sdk.Script().Body, "public, max-age=3600, stale-while-revalidate=86400"},
		{"/sdk/spoor.mjs", 200, sdk.Module().Body, "public, max-age=3600, stale-while-revalidate=86400"},
		{"/sdk/" + sdk.Version() + "/spoor.js", 200, sdk.Script().Body, "public, max-age=31536000, immutable"},
		{"/sdk/0.0.0-none/spoor.js", 404, nil, ""},
		{"/sdk/other.js", 404, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r := do(t, "GET", base+c.path, nil, nil)
			if r.status != c.status {
				t.Fatalf("status %d, want %d (%s)", r.status, c.status, r.body)
			}
			if c.status != 200 {
				reason(t, r)
				return
			}
			if !bytes.Equal(r.body, c.body) || len(c.body) < 1000 {
				t.Fatalf("body of %d bytes is not the %d-byte build", len(r.body), len(c.body))
			}
			if got := r.header.Get("Cache-Control"); got != c.cache {
				t.Errorf("Cache-Control %q, want %q", got, c.cache)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			again := do(t, "GET", base+c.path, nil, map[string]string{"If-None-Match": r.header.Get("ETag")})
			if again.status != 304 || len(again.body) != 0 {
				t.Errorf("revalidation: status %d with %d bytes, want 304 and none", again.status, len(again.body))
			}
		})
	}
}

// A cross-origin page can read Retry-After, which the SDK honours.
func TestCORSExposesRetryAfter(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.HTTP.CORSOrigins = []string{"https://shop.example"}
	a := start(t, cfg)
	defer a.Stop()
	r := do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte(`{"ename":"x"}`),
		map[string]string{"Origin": "https://shop.example", "Content-Type": "text/plain;charset=UTF-8"})
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := r.header.Get("Access-Control-Expose-Headers"); got != "Retry-After" {
		t.Errorf("Access-Control-Expose-Headers %q, want Retry-After", got)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://shop.example" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
}

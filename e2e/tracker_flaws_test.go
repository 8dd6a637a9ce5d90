package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// The older Tracker's flaws (../shared/reference/tracker-notes.md) that no
// other test already pins down; docs/testing.md maps every flaw to its test.

// Flaw 5: the client address was taken from X-Forwarded-For sent by
// anyone, and the tenant from forwarded-host headers. From a peer that is
// not a trusted proxy the header is ignored; no header chooses the app.
func TestFlawSpoofedForwardedHeaders(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir)) // no trusted proxies
	defer a.Stop()
	r := do(t, "GET", "http://"+a.Addr()+"/tr/v1/ename/spoof", nil, map[string]string{
		"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "X-Forwarded-Host": "other-tenant.example", "Forwarded": "for=203.0.113.9"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e := waitStored(t, dir, 1, 10*time.Second)[0]
	if want := schema.HashIP(hashKeyOf(t, dir), "127.0.0.1"); e.IPHash != want {
		t.Errorf("ip_hash %s: the spoofed header was believed (want the peer's %s)", e.IPHash, want)
	}
	if e.App != "" {
		t.Errorf("app %q taken from a header", e.App)
	}
}

// Flaw 6: CORS "*" together with Allow-Credentials. "*" never comes with
// credentials; a listed origin does; an unlisted one gets no CORS at all.
func TestFlawCORSWildcardWithCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, origin    string
		allowed         []string
		wantOrigin      string
		wantCredentials string
	}{
		{"wildcard", "https://any.example", []string{"*"}, "*", ""},
		{"listed origin", "https://shop.example", []string{"https://shop.example"}, "https://shop.example", "true"},
		{"unlisted origin", "https://evil.example", []string{"https://shop.example"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			cfg.HTTP.CORSOrigins = tc.allowed
			a := start(t, cfg)
			defer a.Stop()
			r := do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte(`{"ename":"x"}`), map[string]string{"Origin": tc.origin})
			if got := r.header.Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
				t.Errorf("Allow-Origin %q, want %q", got, tc.wantOrigin)
			}
			if got := r.header.Get("Access-Control-Allow-Credentials"); got != tc.wantCredentials {
				t.Errorf("Allow-Credentials %q, want %q", got, tc.wantCredentials)
			}
		})
	}
}

// Flaw 6 too: private TLS keys were committed. No tracked file holds one
// (tests generate theirs at run time).
func TestFlawNoPrivateKeysCommitted(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err) // the repository is a git checkout, in CI too
	}
	begin := "-----BEGIN "
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue
		}
		if i := bytes.Index(b, []byte(begin)); i >= 0 && bytes.Contains(b[i:min(len(b), i+64)], []byte("PRIVATE KEY-----")) {
			t.Errorf("%s holds a private key", f)
		}
	}
}

// Flaw 7: raw addresses stayed in several tables. Whatever the app's
// choice, the address never reaches the bus or the store as it is.
func TestFlawRawAddressNeverStored(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
	cfg.Collector.IPHandlingByApp = []string{"eu=truncate", "news=drop"}
	a := start(t, cfg)
	defer a.Stop()
	for _, app := range []string{"shop", "eu", "news"} {
		if r := do(t, "GET", "http://"+a.Addr()+"/tr/v1/ename/v/app/"+app, nil, map[string]string{"X-Forwarded-For": "81.2.69.142"}); r.status != 200 {
			t.Fatal(r.status)
		}
	}
	for _, e := range waitStored(t, dir, 3, 10*time.Second) {
		b, _ := e.Encode()
		if bytes.Contains(b, []byte("81.2.69.142")) {
			t.Errorf("the raw address is in the stored event: %s", b)
		}
	}
}

package e2e

import (
	"strings"
	"testing"
)

// Every admin endpoint this pipeline added answers malformed and hostile
// input with a clear status and reason, and stores nothing for it.
func TestAdminEndpointsRefuseBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Admin.Tokens = []string{"admin-token-0123456789"}
	cfg.Links.SigningKeys = []string{"signing-key-0123456789"}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	auth := map[string]string{"Authorization": "Bearer admin-token-0123456789"}
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		reason                   string
	}{
		{"tail: a since that is not a duration", "GET", "/admin/api/tail?since=soon", "", 400, "invalid_since"},
		{"tail: a since past the limit", "GET", "/admin/api/tail?since=2h", "", 400, "invalid_since"},
		{"tail: a negative since", "GET", "/admin/api/tail?since=-5s", "", 400, "invalid_since"},
		{"tail: POST", "POST", "/admin/api/tail", "", 405, "method_not_allowed"},
		{"sign: not JSON", "POST", "/admin/api/sign", "{to:", 400, "invalid_json"},
		{"sign: an unknown field", "POST", "/admin/api/sign", `{"to":"https://shop.example/","sig":"x"}`, 400, "invalid_json"},
		{"sign: a script target", "POST", "/admin/api/sign", `{"to":"javascript:alert(1)"}`, 400, "invalid_link"},
		{"sign: user info in the target", "POST", "/admin/api/sign", `{"to":"https://evil@shop.example/"}`, 400, "invalid_link"},
		{"sign: GET", "GET", "/admin/api/sign", "", 405, "method_not_allowed"},
		{"forget: not JSON", "POST", "/admin/api/forget", "[", 400, "invalid_json"},
		{"forget: both ids", "POST", "/admin/api/forget", `{"uid":"u","vid":"v"}`, 400, "missing_id"},
		{"forget: no id", "POST", "/admin/api/forget", `{"app":"shop"}`, 400, "missing_id"},
		{"forget: an unknown request", "GET", "/admin/api/forget/no-such-request", "", 404, "not_found"},
		{"forget: oversized", "POST", "/admin/api/forget", `{"uid":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large"},
		{"dashboard: an unknown page", "GET", "/admin/../../etc/passwd", "", 404, "not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.method, base+c.path, []byte(c.body), auth)
			if r.status != c.status || reason(t, r) != c.reason {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.reason)
			}
		})
	}
	// A wrong token is refused before any of it is read.
	r := do(t, "POST", base+"/admin/api/sign", []byte(`{"to":"https://shop.example/"}`), map[string]string{"Authorization": "Bearer wrong"})
	if r.status != 401 || reason(t, r) != "unauthorized" {
		t.Fatalf("a wrong token: %d %s", r.status, r.body)
	}
	if evs := settled(t, dir, viaTrack(base)); len(evs) != 0 {
		t.Fatalf("stored %d events", len(evs))
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"

	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/schema"
)

// runCLI runs spoor with args (no config file: defaults and env) and
// returns its exit code and standard output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldArgs, oldOut := os.Args, os.Stdout
	os.Args, os.Stdout = append([]string{"spoor", "-config", ""}, args...), w
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Args, os.Stdout = oldArgs, oldOut
	w.Close()
	out, _ := io.ReadAll(r)
	return code, string(out)
}

// `spoor link sign` prints a link the collector's policy accepts, and
// refuses without a key or with an unsafe target.
func TestLinkSign(t *testing.T) {
	t.Setenv("SPOOR_LINKS_SIGNING_KEYS", "new-key-0123456789abcdef,old-key-0123456789abcdef")
	t.Setenv("SPOOR_LINKS_BASE_URL", "https://t.example")
	code, out := runCLI(t, "link", "sign", "--to", "https://partner.example/x?a=1", "--field", "ename=click", "--field", "utm_campaign=a/b")
	if code != 0 || !strings.HasPrefix(out, "https://t.example/rdr/v1/ename/click/utm_campaign/a%2Fb?") {
		t.Fatalf("exit %d, printed %q", code, out)
	}
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := schema.ParseTuplets(strings.TrimPrefix(u.EscapedPath(), "/rdr/v1"))
	if err != nil {
		t.Fatal(err)
	}
	var fields []links.Field
	for _, p := range pairs {
		fields = append(fields, links.Field{Key: p.Key, Value: p.Value})
	}
	verifier, _ := links.NewSigner([]string{"other-key-0123456789abcd", "new-key-0123456789abcdef"})
	if got, why := (links.Policy{Signer: verifier}).Resolve(u.Query().Get("url"), fields, u.Query().Get("sig")); why != "" ||
		got != "https://partner.example/x?a=1" {
		t.Errorf("the printed link resolves to %q (%s)", got, why)
	}
	if code, _ := runCLI(t, "link", "sign", "--to", "javascript:alert(1)"); code == 0 {
		t.Error("signed a javascript: target")
	}
	t.Setenv("SPOOR_LINKS_SIGNING_KEYS", "")
	if code, _ := runCLI(t, "link", "sign", "--to", "https://partner.example/"); code == 0 {
		t.Error("signed without a key")
	}
}

// The short-link commands against a running pipeline: create prints the
// short URL that redirects, list and get show it, disable turns it off,
// qr writes a PNG.
func TestLinkCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir, cfg.HTTP.Addr = dir, "127.0.0.1:0"
	cfg.Spool.Dir, cfg.File.Dir = filepath.Join(dir, "spool"), filepath.Join(dir, "events")
	cfg.Admin.Tokens = []string{"cli-token-0123456789"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Start(ctx, cfg, app.Roles{Collector: true, Sink: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	base := "http://" + a.Addr()
	t.Setenv("SPOOR_LINKS_ADMIN_TOKENS", "cli-token-0123456789")
	t.Setenv("SPOOR_LINKS_BASE_URL", base)
	code, out := runCLI(t, "link", "create", "--to", "https://shop.example/cli", "--slug", "cli1", "--max-clicks", "5",
		"--expires", "30d", "--field", "campaign=cli")
	if code != 0 || strings.TrimSpace(out) != base+"/l/cli1" {
		t.Fatalf("create: %d %q", code, out)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(base + "/l/cli1")
	if err != nil || res.StatusCode != 302 || res.Header.Get("Location") != "https://shop.example/cli" {
		t.Fatalf("the created link: %v %v", res, err)
	}
	res.Body.Close()
	if code, _ := runCLI(t, "link", "create", "--to", "https://shop.example/x", "--slug", "cli1"); code != 1 {
		t.Errorf("a taken slug: exit %d, want 1", code)
	}
	if code, out := runCLI(t, "link", "list"); code != 0 || !strings.Contains(out, "cli1") || !strings.Contains(out, "active") {
		t.Errorf("list: %d %q", code, out)
	}
	if code, out := runCLI(t, "link", "get", "cli1"); code != 0 || !strings.Contains(out, `"max_clicks": 5`) || !strings.Contains(out, `"campaign": "cli"`) {
		t.Errorf("get: %d %q", code, out)
	}
	if code, out := runCLI(t, "link", "disable", "cli1"); code != 0 || !strings.Contains(out, "disabled cli1") {
		t.Errorf("disable: %d %q", code, out)
	}
	if code, out := runCLI(t, "link", "list"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("list after disable: %d %q", code, out)
	}
	png := filepath.Join(dir, "cli1.png")
	if code, _ := runCLI(t, "link", "qr", "-out", png, "cli1"); code != 0 {
		t.Fatalf("qr: exit %d", code)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("qr wrote %d bytes: %v", len(b), err)
	}
	t.Setenv("SPOOR_LINKS_ADMIN_TOKENS", "wrong-token-0123456789")
	if code, _ := runCLI(t, "link", "list"); code != 1 {
		t.Errorf("a wrong token: exit %d, want 1", code)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2027-01-31T00:00:00Z": time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		"72h":                  now.Add(72 * time.Hour),
		"30d":                  now.Add(30 * 24 * time.Hour),
	} {
		if got, err := parseExpiry(in, now); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "-3h", "0d", "2027-01-31"} {
		if _, err := parseExpiry(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

package main

import (
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

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
	code := run()
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

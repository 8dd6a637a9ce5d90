package secret

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMatch(t *testing.T) {
	tokens := []string{"tok-a", "tok-b"}
	for tok, want := range map[string]bool{"tok-a": true, "tok-b": true, "tok-": false, "tok-ab": false, "": false, "TOK-A": false} {
		if got := Match([]byte(tok), tokens); got != want {
			t.Errorf("Match(%q) = %v", tok, got)
		}
	}
	if Match([]byte("x"), nil) {
		t.Error("a token matched an empty list")
	}
}

func TestBearer(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer abc": "", "Basic abc": "", "": ""} {
		got, ok := Bearer([]byte(h))
		if ok != (want != "") || ok && string(got) != want {
			t.Errorf("Bearer(%q) = %q %v", h, got, ok)
		}
	}
}

func TestFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := File(dir, "k")
	if err != nil || len(a) != 64 {
		t.Fatalf("File = %q, %v", a, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "k")); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := File(dir, "k"); b != a {
		t.Errorf("second call %q, want the first %q", b, a)
	}
	if err := os.WriteFile(filepath.Join(dir, "old"), []byte("  kept-as-is \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, _ := File(dir, "old"); s != "kept-as-is" {
		t.Errorf("an existing secret read as %q", s)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := File(dir, "empty"); err == nil {
		t.Error("an empty secret file was accepted")
	}
}

package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spoor-dev/spoor/internal/config"
)

// The soft memory limit: memory_limit when set, else 80% of a container's
// limit, else the default.
func TestMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	proc := filepath.Join(dir, "cgroup")
	if err := os.WriteFile(proc, []byte("0::/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(dir, "none")
	limited := filepath.Join(dir, "limited")
	if err := os.MkdirAll(limited, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(limited, "memory.max"), []byte("1073741824\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set := config.Default()
	set.MemoryLimit = 200 << 20
	for _, c := range []struct {
		name     string
		cfg      config.Config
		root     string
		want     int64
		wantFrom string
	}{
		{"configured", set, limited, 200 << 20, "memory_limit"},
		{"a container of 1 GiB", config.Default(), limited, 858993459, "cgroup"},
		{"no container", config.Default(), none, DefaultMemoryLimit, "default"},
	} {
		if got, from := MemoryLimit(c.cfg, c.root, proc); got != c.want || from != c.wantFrom {
			t.Errorf("%s: %d (%s), want %d (%s)", c.name, got, from, c.want, c.wantFrom)
		}
	}
}

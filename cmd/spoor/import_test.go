package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks/file"
)

// spoor import against a running pipeline: good rows stored, bad rows
// reported by line with exit 3, and the same file imported again stores
// nothing twice.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir, cfg.HTTP.Addr = dir, "127.0.0.1:0"
	cfg.Spool.Dir, cfg.File.Dir = filepath.Join(dir, "spool"), filepath.Join(dir, "events")
	cfg.File.RollInterval = 100 * time.Millisecond
	cfg.Collector.ServerTokens = []string{"import-token-0123456789"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Start(ctx, cfg, app.Roles{Collector: true, Sink: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	t.Setenv("SPOOR_LINKS_BASE_URL", "http://"+a.Addr())
	t.Setenv("SPOOR_COLLECTOR_SERVER_TOKENS", "import-token-0123456789")
	csv := filepath.Join(dir, "store-sales.csv")
	if err := os.WriteFile(csv, []byte("ename,uid,created,Total\n"+
		"purchase,u1,2026-11-01T10:00:00Z,19.99\n"+
		"purchase,u2,yesterday,5\n"+
		"purchase,u3,2026-11-01T12:00:00Z,7\n"+
		"refund,u1,2026-11-02T09:00:00Z,-19.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mapping := filepath.Join(dir, "map.json")
	os.WriteFile(mapping, []byte(`{"Total": "revenue"}`), 0o644)
	for run := 1; run <= 2; run++ {
		code, out := runCLI(t, "import", "-mapping", mapping, csv)
		if code != 3 || !strings.Contains(out, "4 rows read, 3 imported, 1 refused") || !strings.Contains(out, "line 3: ") {
			t.Fatalf("run %d: exit %d, %q", run, code, out)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := file.ReadAll(cfg.File.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= 3 {
			time.Sleep(500 * time.Millisecond)
			evs, _ = file.ReadAll(cfg.File.Dir)
			if len(evs) != 3 {
				t.Fatalf("%d events stored after importing the file twice, want 3", len(evs))
			}
			for _, e := range evs {
				if e.Endpoint != "str" || e.ClientTime == nil || string(e.Props["revenue"]) == "" {
					t.Errorf("imported %+v", e)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events stored", len(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

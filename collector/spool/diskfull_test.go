package spool

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// A spool on a disk that fills (a 256 KiB tmpfs, its cap far larger):
// appends fail with ErrFull and write nothing half-way; the spool says Full
// (so the collector answers 503 and readiness can say so); every append
// that returned nil is replayed; once room is freed, appends succeed again
// and Full clears. Needs root to mount (CI runs as root; elsewhere skipped).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root: this test mounts a tmpfs")
		}
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "spooltest", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })

	s := open(t, dir, 1<<30, 64<<10)
	var acked []Record
	var full error
	for i := 0; i < 100_000 && full == nil; i += 50 {
		batch := recs(i, 50)
		if err := s.Append(batch); err != nil {
			full = err
			break
		}
		acked = append(acked, batch...)
	}
	if !errors.Is(full, ErrFull) {
		t.Fatalf("a full disk must refuse with ErrFull, got %v", full)
	}
	if !s.Full() {
		t.Fatal("after a refused write the spool must say Full")
	}
	if len(acked) == 0 {
		t.Fatal("nothing fit before the disk was full")
	}
	if err := s.Append(recs(900_000, 50)); !errors.Is(err, ErrFull) {
		t.Fatalf("still full: want ErrFull, got %v", err)
	}
	got := collect(t, s) // the replay frees the disk
	if len(got) != len(acked) {
		t.Fatalf("replayed %d records, %d were acknowledged", len(got), len(acked))
	}
	for i := range got {
		if got[i].ID != acked[i].ID {
			t.Fatalf("record %d: %s, want %s", i, got[i].ID, acked[i].ID)
		}
	}
	if err := s.Append(recs(1_000_000, 50)); err != nil {
		t.Fatalf("after the replay freed the disk: %v", err)
	}
	if s.Full() {
		t.Fatal("a successful write must clear Full")
	}
	if got := collect(t, s); len(got) != 50 || got[0].ID != "id-1000000" {
		t.Fatalf("after the refusal, replayed %d records", len(got))
	}
	s.Close()
}

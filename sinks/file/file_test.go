package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/sinktest"
)

func opts(dir string) Options {
	return Options{Dir: dir, RollBytes: 1 << 20, RollInterval: time.Hour, DedupWindow: 1000}
}

func TestContract(t *testing.T) {
	dirs := map[string]string{}
	dirFor := func(t *testing.T) string {
		if dirs[t.Name()] == "" {
			dirs[t.Name()] = t.TempDir()
		}
		return dirs[t.Name()]
	}
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinks.Sink { return New(opts(dirFor(t)), zerolog.Nop()) },
		Stored: func(t *testing.T) []*schema.Event {
			evs, err := ReadAll(dirFor(t))
			if err != nil {
				t.Fatal(err)
			}
			return evs
		},
		Links: func(t *testing.T, app, by, id string) []sinktest.Link {
			ls, err := ReadLinks(filepath.Join(filepath.Dir(dirFor(t)), "identity"))
			if err != nil {
				t.Fatal(err)
			}
			var out []sinktest.Link
			for _, l := range ls {
				if l.App == app && (by == "visitor" && l.VisitorID == id || by == "user" && l.UserID == id) {
					out = append(out, sinktest.Link{Visitor: l.VisitorID, User: l.UserID, Via: l.Via, First: l.FirstSeen, Last: l.LastSeen})
				}
			}
			return out
		},
	})
}

func TestPartitionsAndNames(t *testing.T) {
	dir := t.TempDir()
	s := New(opts(dir), zerolog.Nop())
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	if err := s.Write(context.Background(), sinktest.Events(60, base)); err != nil {
		t.Fatal(err)
	}
	// Before roll: nothing visible to readers.
	if files, _ := Files(dir); len(files) != 0 {
		t.Fatalf("in-progress files must be hidden, found %v", files)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := Files(dir)
	var parts []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, filepath.Dir(f))
		parts = append(parts, rel)
	}
	want := "dt=2026-11-22/hour=23 dt=2026-11-23/hour=00"
	if strings.Join(parts, " ") != want {
		t.Fatalf("partitions = %v, want %s", parts, want)
	}
}

func TestRollByAge(t *testing.T) {
	dir := t.TempDir()
	o := opts(dir)
	o.RollInterval = 50 * time.Millisecond
	s := New(o, zerolog.Nop())
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(context.Background(), sinktest.Events(3, time.Now())); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if evs, _ := ReadAll(dir); len(evs) == 3 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("file not published after roll_interval")
}

// A crash leaves an in-progress file whose last batch is torn: Open keeps
// every whole batch (each was acknowledged) and drops the torn one.
func TestRecoverTornFile(t *testing.T) {
	dir := t.TempDir()
	s := New(opts(dir), zerolog.Nop())
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs := sinktest.Events(6, time.Now())
	if err := s.Write(context.Background(), evs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), evs[3:]); err != nil {
		t.Fatal(err)
	}
	var tmp string
	for _, pt := range s.parts {
		tmp = pt.tmp
	}
	// Simulate the crash: no Close; append half a gzip member.
	var half bytes.Buffer
	zw := gzip.NewWriter(&half)
	zw.Write(bytes.Repeat([]byte("x"), 1000))
	zw.Close()
	f, _ := os.OpenFile(tmp, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(half.Bytes()[:half.Len()/2])
	f.Close()

	s2 := New(opts(dir), zerolog.Nop())
	if err := s2.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("recovered %d events, want 6", len(got))
	}
	// And the dedup window was reloaded from disk.
	if err := s2.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkWrite(b *testing.B) {
	s := New(Options{Dir: b.TempDir(), RollBytes: 64 << 20, RollInterval: time.Hour, DedupWindow: 250000}, zerolog.Nop())
	if err := s.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	base := time.Now()
	batches := make([][]*schema.Event, 64)
	for i := range batches {
		batches[i] = sinktest.Events(500, base)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		batch := batches[i%len(batches)]
		for _, e := range batch {
			e.EventID = schema.NewEventID()
		}
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

// Sink processes sharing a directory recover only their own in-progress
// files: another writer's file is still being written.
func TestRecoverLeavesOtherWritersAlone(t *testing.T) {
	dir := t.TempDir()
	a := New(Options{Dir: dir, RollBytes: 1 << 20, RollInterval: time.Hour, DedupWindow: 10, WriterID: "sink-a"}, zerolog.Nop())
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Write(context.Background(), sinktest.Events(3, time.Now())); err != nil {
		t.Fatal(err)
	}
	b := New(Options{Dir: dir, RollBytes: 1 << 20, RollInterval: time.Hour, DedupWindow: 10, WriterID: "sink-b"}, zerolog.Nop())
	if err := b.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, pt := range a.parts {
		if _, err := os.Stat(pt.tmp); err != nil {
			t.Fatalf("writer b touched writer a's in-progress file: %v", err)
		}
	}
	b.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if evs, _ := ReadAll(dir); len(evs) != 3 {
		t.Fatalf("stored %d", len(evs))
	}
}

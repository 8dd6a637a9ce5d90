package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

func open(t *testing.T, dir string, maxBytes, segBytes int64) *Spool {
	t.Helper()
	s, err := Open(dir, maxBytes, segBytes, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recs(from, n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = Record{ID: fmt.Sprintf("id-%05d", from+i), Data: []byte(fmt.Sprintf(`{"n":%d}`, from+i))}
	}
	return out
}

func collect(t *testing.T, s *Spool) []Record {
	t.Helper()
	var got []Record
	if _, err := s.Replay(func(r []Record) error { got = append(got, r...); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendReplayInOrderAcrossSegmentsAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 1<<20, 256) // tiny segments: many rolls
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ { // concurrent appenders share group commits
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if err := s.Append(recs(g*100, 100)); err != nil {
				t.Error(err)
			}
		}(g)
	}
	wg.Wait()
	if _, n := s.Size(); n != 800 {
		t.Fatalf("records = %d", n)
	}
	s.Close()

	s = open(t, dir, 1<<20, 256) // restart: everything still there
	defer s.Close()
	got := collect(t, s)
	if len(got) != 800 {
		t.Fatalf("replayed %d, want 800", len(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.ID] {
			t.Fatalf("duplicate %s", r.ID)
		}
		seen[r.ID] = true
	}
	// Order within one append is kept.
	last := map[int]int{}
	for _, r := range got {
		var n int
		fmt.Sscanf(r.ID, "id-%05d", &n)
		if prev, ok := last[n/100]; ok && n < prev {
			t.Fatalf("out of order: %d after %d", n, prev)
		}
		last[n/100] = n
	}
	if b, n := s.Size(); n != 0 || b != 0 {
		t.Fatalf("after replay size = %d bytes, %d records", b, n)
	}
}

func TestReplayErrorKeepsSegment(t *testing.T) {
	s := open(t, t.TempDir(), 1<<20, 1<<20)
	defer s.Close()
	if err := s.Append(recs(0, 10)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("nats down")
	if _, err := s.Replay(func([]Record) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	if got := collect(t, s); len(got) != 10 {
		t.Fatalf("replayed %d after failure, want 10", len(got))
	}
}

func TestFull(t *testing.T) {
	s := open(t, t.TempDir(), 200, 100)
	defer s.Close()
	if err := s.Append(recs(0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(recs(3, 10)); !errors.Is(err, ErrFull) {
		t.Fatalf("want ErrFull, got %v", err)
	}
	if got := collect(t, s); len(got) != 3 {
		t.Fatalf("a refused append must write nothing: got %d", len(got))
	}
	if err := s.Append(recs(3, 3)); err != nil {
		t.Fatalf("space must be freed by replay: %v", err)
	}
}

func TestTornTailAndCorruption(t *testing.T) {
	cases := []struct {
		name      string
		damage    func(b []byte) []byte
		want      int
		quarantin bool
	}{
		{"torn header", func(b []byte) []byte { return append(b, 0, 0, 1) }, 5, true},
		{"torn payload", func(b []byte) []byte {
			return append(b, appendRecord(nil, Record{ID: "x", Data: []byte("yyyy")})[:10]...)
		}, 5, true},
		{"bad crc in the middle", func(b []byte) []byte { b[headerLen+20] ^= 0xFF; return b }, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, 1<<20, 1<<20)
			if err := s.Append(recs(0, 5)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			p := filepath.Join(dir, segName(1))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, c.damage(b), 0o640); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, 1<<20, 1<<20)
			defer s.Close()
			if got := collect(t, s); len(got) != c.want {
				t.Fatalf("replayed %d, want %d", len(got), c.want)
			}
			_, err = os.Stat(filepath.Join(dir, "corrupt", segName(1)))
			if (err == nil) != c.quarantin {
				t.Fatalf("quarantined = %v, want %v", err == nil, c.quarantin)
			}
			if c.quarantin && s.Corrupt() != 1 {
				t.Fatalf("corrupt count = %d", s.Corrupt())
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	s, _ := Open(b.TempDir(), 1<<34, 8<<20, zerolog.Nop())
	defer s.Close()
	r := recs(0, 1)
	r[0].Data = make([]byte, 512)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Append(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

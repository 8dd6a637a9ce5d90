package bus

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// nats.compression reaches every stream, and with s2 the same events take
// far less disk than without; a stream that exists takes a changed setting
// in its configuration.
func TestStreamsAreCompressed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func(dir, comp string) (*Embedded, *Bus) {
		t.Helper()
		emb, err := StartEmbedded(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		// A small stream: at most 128 kB gets the smallest blocks (32 kB;
		// nats-server's dynBlkSize), so the events below fill and seal a
		// few, and only sealed blocks are compressed.
		b, err := Connect(Options{Name: "test", Stream: "EV", Subject: "ev", DLQStream: "DLQ", DLQSubject: "dlq",
			FailedStream: "FAILED", FailedSubject: "failed", Replicas: 1, Partitions: 1, MaxAge: time.Hour, MaxBytes: 120_000,
			DedupWindow: time.Minute, Compression: comp, MaxPending: 256, ConnectTimeout: 5 * time.Second}, emb, zerolog.Nop())
		if err != nil {
			emb.Shutdown()
			t.Fatal(err)
		}
		if err := b.EnsureStreams(ctx); err != nil {
			b.Close()
			emb.Shutdown()
			t.Fatal(err)
		}
		return emb, b
	}
	configured := func(b *Bus) map[string]jetstream.StoreCompression {
		t.Helper()
		out := map[string]jetstream.StoreCompression{}
		for _, name := range []string{"EV", "DLQ", "FAILED"} {
			s, err := b.js.Stream(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = s.CachedInfo().Config.Compression
		}
		return out
	}
	diskBytes := map[string]int64{}
	for _, comp := range []string{"none", "s2"} {
		dir := t.TempDir()
		emb, b := open(dir, comp)
		want := jetstream.NoCompression
		if comp == "s2" {
			want = jetstream.S2Compression
		}
		for name, got := range configured(b) {
			if got != want {
				t.Errorf("%s: stream %s has compression %v, want %v", comp, name, got, want)
			}
		}
		var ps []Pending
		msg := func(i int) string {
			return fmt.Sprintf(`{"event_id":"00000000-0000-4000-8000-%012d","app":"shop","endpoint":"tr",`+
				`"event":"load","visitor_id":"v-%d","url":"https://shop.example/p/%d","user_agent":"Mozilla/5.0 (X11; Linux x86_64)",`+
				`"received_at":"2026-12-06T07:00:00.%03dZ"}`+"\n", i, i%500, i%300, i%1000)
		}
		for i := range 250 {
			p, err := b.Publish(0, "", []byte(msg(i)))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			if err := p.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The file store compresses a sealed block in the background.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			diskBytes[comp] = streamFiles(t, dir, "EV")
			if comp == "none" || float64(diskBytes[comp]) < 0.6*float64(diskBytes["none"]) || time.Now().After(deadline) {
				break
			}
		}
		// What was compressed reads back as it was written.
		got, err := b.Events(ctx, 250)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 250 {
			t.Fatalf("%s: read back %d events, want 250", comp, len(got))
		}
		for i, m := range got {
			if string(m.Data) != msg(i) {
				t.Fatalf("%s: event %d reads back as %q, want %q", comp, i, m.Data, msg(i))
			}
		}
		b.Close()
		emb.Shutdown()
		if comp == "none" {
			// The same store started again with s2: the existing streams take it.
			emb, b := open(dir, "s2")
			for name, got := range configured(b) {
				if got != jetstream.S2Compression {
					t.Errorf("an existing stream %s kept compression %v after a start with s2", name, got)
				}
			}
			b.Close()
			emb.Shutdown()
		}
	}
	t.Logf("the stream's files: %d bytes without compression, %d with s2", diskBytes["none"], diskBytes["s2"])
	if diskBytes["none"] == 0 || float64(diskBytes["s2"]) > 0.6*float64(diskBytes["none"]) {
		t.Errorf("s2 should keep the events in well under 0.6 of the bytes: none %d, s2 %d", diskBytes["none"], diskBytes["s2"])
	}
}

// streamFiles sums the sizes of a stream's message blocks under dir.
func streamFiles(t *testing.T, dir, stream string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(filepath.Dir(p))) == stream {
			fi, err := d.Info()
			if err != nil {
				return nil // a block being rewritten
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

package parquetfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/deliverytest"
)

func newFiles(t *testing.T, dir string, settings map[string]any) *Files {
	t.Helper()
	s := map[string]any{"dir": dir}
	for k, v := range settings {
		s[k] = v
	}
	f, err := New(sinks.Destination{Name: "lake", Settings: s, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return f.(*Files)
}

// readAll reads every Parquet file under dir, oldest first.
func readAll(t *testing.T, dir string) []Row {
	t.Helper()
	var paths []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	var rows []Row
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), ".") {
			t.Fatalf("a hidden file is visible as Parquet: %s", p)
		}
		rs, err := pq.ReadFile[Row](p)
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		rows = append(rows, rs...)
	}
	return rows
}

// receiver is the directory: what reached Parquet files, once rolled.
type receiver struct {
	t   *testing.T
	f   *Files
	dir string
}

func (r *receiver) Received(t *testing.T) []deliverytest.Delivered {
	r.f.rollDue(true)
	var out []deliverytest.Delivered
	for _, row := range readAll(t, r.dir) {
		v := ""
		if row.VisitorID != nil {
			v = *row.VisitorID
		}
		out = append(out, deliverytest.Delivered{Key: row.EventID, Visitor: v})
	}
	return out
}

// FailOn makes the disk refuse the next write-ahead file (a file where its
// directory should be), whichever the event: a disk is up or down.
func (r *receiver) FailOn(string, deliverytest.Failure) {
	wal := r.f.walDir()
	if err := os.Rename(wal, wal+".away"); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(wal, nil, 0o600); err != nil {
		r.t.Fatal(err)
	}
}

func (r *receiver) Heal() {
	wal := r.f.walDir()
	if _, err := os.Stat(wal + ".away"); err != nil {
		return
	}
	_ = os.Remove(wal)
	if err := os.Rename(wal+".away", wal); err != nil {
		r.t.Fatal(err)
	}
}

// roll_bytes of 1: every Write ends in Parquet files, and opens its
// write-ahead file afresh (where a failure shows).
func TestDeliveryContract(t *testing.T) {
	deliverytest.Run(t, deliverytest.Harness{New: func(t *testing.T) (sinks.Sink, deliverytest.Receiver) {
		dir := t.TempDir()
		f := newFiles(t, dir, map[string]any{"roll_bytes": 1})
		return f, &receiver{t: t, f: f, dir: dir}
	}})
}

func event(id, vid string, at time.Time) *schema.Event {
	w, ct, yes := int64(390), at.Add(-time.Second), true
	return &schema.Event{EventID: id, ReceivedAt: at, Endpoint: "segment", App: "shop", EventName: "Order Completed", EventType: "track",
		VisitorID: vid, UserID: "u-" + vid, URL: "https://shop.example/", Width: &w, ClientTime: &ct, Bot: &yes, Campaign: "spring",
		Props: map[string]json.RawMessage{"total": json.RawMessage(`27.5`), "products": json.RawMessage(`[{"sku":"G-32"}]`)}}
}

// Every field arrives in its typed column, the props as JSON, in the hour
// partition the event was received in; nothing half-written is visible.
func TestRowsAndPartitions(t *testing.T) {
	dir := t.TempDir()
	f := newFiles(t, dir, nil)
	if err := f.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	evs := []*schema.Event{event(schema.NewEventID(), "v1", at), event(schema.NewEventID(), "v2", at.Add(time.Hour)), {EventID: schema.NewEventID(), ReceivedAt: at}}
	if err := f.Write(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	if rows := readAll(t, dir); len(rows) != 0 {
		t.Fatalf("%d rows readable before the roll", len(rows))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"dt=2026-12-01/hour=10", "dt=2026-12-01/hour=11"} {
		if m, _ := filepath.Glob(filepath.Join(dir, h, "part-*.parquet")); len(m) != 1 {
			t.Fatalf("%s holds %d files, want 1", h, len(m))
		}
	}
	rows := readAll(t, dir)
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.EventID != evs[0].EventID || !r.ReceivedAt.Equal(at) || *r.App != "shop" || *r.EventName != "Order Completed" ||
		*r.VisitorID != "v1" || *r.UserID != "u-v1" || *r.Width != 390 || !r.ClientTime.Equal(at.Add(-time.Second)) || !*r.Bot ||
		*r.Campaign != "spring" || *r.Props != `{"products":[{"sku":"G-32"}],"total":27.5}` {
		t.Fatalf("row %+v", r)
	}
	if bare := rows[1]; bare.App != nil || bare.VisitorID != nil || bare.Props != nil || bare.Width != nil {
		t.Fatalf("absent values must be nulls: %+v", bare)
	}
}

// A crash between writes and the roll loses nothing: the next Open rolls
// the write-ahead files, and a redelivery of their events is recognised.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	f := newFiles(t, dir, nil)
	if err := f.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	evs := []*schema.Event{event(schema.NewEventID(), "v1", now), event(schema.NewEventID(), "v2", now)}
	if err := f.Write(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	// The process dies: nothing is closed or rolled.
	close(f.stop)
	<-f.done
	for _, w := range f.wal {
		w.f.Close()
	}
	g := newFiles(t, dir, nil)
	if err := g.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rows := readAll(t, dir); len(rows) != 2 {
		t.Fatalf("after the restart %d rows, want the 2 acknowledged", len(rows))
	}
	if err := g.Write(t.Context(), evs); err != nil { // the worker redelivers them
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if rows := readAll(t, dir); len(rows) != 2 {
		t.Fatalf("a redelivery after the restart made %d rows, want 2", len(rows))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".wal", "*")); len(left) != 0 {
		t.Fatalf("write-ahead files left: %v", left)
	}
}

func TestSettings(t *testing.T) {
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{}, "dir"},
		{map[string]any{"dir": "x", "compression": "gzip"}, "compression"},
		{map[string]any{"dir": "x", "s3": map[string]any{"bucket": "b"}}, "endpoint"},
		{map[string]any{"dir": "x", "s3": map[string]any{"endpoint": "http://h:9", "bucket": "b"}}, "no scheme"},
	} {
		if _, err := New(sinks.Destination{Name: "lake", Settings: c.settings}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %q", c.settings, err, c.want)
		}
	}
}

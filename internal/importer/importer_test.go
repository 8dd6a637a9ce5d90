package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

type collect struct {
	mu  sync.Mutex
	got []map[string]any
}

func (c *collect) Send(evs []json.RawMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		var m map[string]any
		if err := json.Unmarshal(e, &m); err != nil {
			return fmt.Errorf("sent invalid JSON %s: %w", e, err)
		}
		c.got = append(c.got, m)
	}
	return nil
}

func TestCSV(t *testing.T) {
	in := "\ufeffename,uid,created,Order total,w,Internal\n" +
		"purchase,u1,2026-11-01T10:00:00Z,19.99,375,x\n" +
		"purchase,u2,2026-11-01T11:00:00Z,5,wide,y\n" + // w must be a number
		"purchase,u3\n" + // too few columns
		`refund,"u4, the second",2026-11-02T09:00:00Z,-5,,z` + "\n"
	c := &collect{}
	res, err := Import(strings.NewReader(in), "orders.csv", Options{Mapping: map[string]string{"Order total": "revenue", "Internal": ""}, BatchSize: 2, InFlight: 1}, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || res.Imported != 2 || len(res.Bad) != 2 || res.Bad[0].Line != 3 || res.Bad[1].Line != 4 ||
		!strings.Contains(res.Bad[0].Reason, "w") || !strings.Contains(res.Bad[1].Reason, "columns") {
		t.Fatalf("result %+v", res)
	}
	if c.got[0]["ename"] != "purchase" || c.got[0]["revenue"] != 19.99 || c.got[0]["Internal"] != nil || c.got[1]["uid"] != "u4, the second" {
		t.Errorf("sent %v", c.got)
	}
	for _, e := range c.got {
		if id, _ := e["eid"].(string); len(id) != 36 {
			t.Errorf("no derived event id: %v", e)
		}
	}
	again := &collect{}
	if _, err := Import(strings.NewReader(in), "orders.csv", Options{Mapping: map[string]string{"Order total": "revenue", "Internal": ""}, InFlight: 1}, again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.got, again.got) {
		t.Error("a second import of the same file sent other ids")
	}
}

func TestNDJSON(t *testing.T) {
	in := `{"ename":"open","vid":"v1","props":{"n":1}}
not json
{"ename":"open","eid":"0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b"}
{"ename":"open","eid":"not-a-uuid"}

{"ename":"open","time":"last tuesday"}
["an array"]
`
	c := &collect{}
	res, err := Import(strings.NewReader(in), "events.ndjson", Options{InFlight: 1}, c)
	if err != nil {
		t.Fatal(err)
	}
	lines := []int{}
	for _, b := range res.Bad {
		lines = append(lines, b.Line)
	}
	if res.Rows != 6 || res.Imported != 2 || !reflect.DeepEqual(lines, []int{2, 4, 6, 7}) {
		t.Fatalf("result %+v", res)
	}
	if c.got[1]["eid"] != "0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b" || c.got[0]["props"].(map[string]any)["n"] != 1.0 {
		t.Errorf("sent %v", c.got)
	}
}

// rows generates n CSV rows without holding them.
type rows struct {
	n, i int
	buf  []byte
}

func (r *rows) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i <= r.n {
		if r.i == 0 {
			r.buf = append(r.buf, "ename,uid,created,sku\n"...)
		} else {
			r.buf = fmt.Appendf(r.buf, "purchase,u%d,2026-11-01T10:00:00Z,sku-%d\n", r.i%1000, r.i)
		}
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

type discard struct{ n atomic.Int64 }

func (d *discard) Send(evs []json.RawMessage) error { d.n.Add(int64(len(evs))); return nil }

// 300,000 rows (15 MB) stream through in flat memory.
func TestStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("300,000 rows")
	}
	d := &discard{}
	var peak uint64
	o := Options{Progress: func(int64) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}}
	res, err := Import(&rows{n: 300_000}, "big.csv", o, d)
	if err != nil || res.Imported != 300_000 || d.n.Load() != 300_000 {
		t.Fatalf("%+v %v", res, err)
	}
	if peak > 16<<20 {
		t.Errorf("heap in use reached %d MB for a streamed import", peak>>20)
	}
}

type failing struct{ calls atomic.Int64 }

func (f *failing) Send(evs []json.RawMessage) error {
	if f.calls.Add(1) == 3 {
		return fmt.Errorf("collector said 400")
	}
	return nil
}

// A refused batch ends the import with its reason; what was sent before
// is counted, nothing after is sent.
func TestSendFailureStops(t *testing.T) {
	f := &failing{}
	res, err := Import(&rows{n: 10_000}, "x.csv", Options{BatchSize: 100}, f)
	if err == nil || !strings.Contains(err.Error(), "collector said 400") {
		t.Fatalf("err %v", err)
	}
	if res.Imported > 9_900 || f.calls.Load() >= 100 {
		t.Errorf("imported %d in %d calls after a failure on the third", res.Imported, f.calls.Load())
	}
}

// A column whose every value is a number is sent as numbers; one with a
// value that is not (or a leading zero, or an id too long for a double)
// stays text. The derived event ids do not depend on it.
func TestCSVNumbers(t *testing.T) {
	in := "ename,price,qty,zip,order_no,note\n" +
		"buy,9.99,2,01234,123456789012345678,5\n" +
		"buy,12,10,12345,123456789012345679,five\n" +
		"buy,,1e3,,,\n"
	c := &collect{}
	if _, err := Import(strings.NewReader(in), "orders.csv", Options{InFlight: 1}, c); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 3 {
		t.Fatalf("sent %v", c.got)
	}
	want := []map[string]any{
		{"price": 9.99, "qty": 2.0, "zip": "01234", "order_no": "123456789012345678", "note": "5"},
		{"price": 12.0, "qty": 10.0, "zip": "12345", "order_no": "123456789012345679", "note": "five"},
		{"qty": 1000.0},
	}
	for i, w := range want {
		for k, v := range w {
			if c.got[i][k] != v {
				t.Errorf("row %d: %s = %#v, want %#v", i, k, c.got[i][k], v)
			}
		}
	}
	// Through a reader that cannot be read twice, every value is text; the
	// ids are the same.
	text := &collect{}
	if _, err := Import(struct{ io.Reader }{strings.NewReader(in)}, "orders.csv", Options{InFlight: 1}, text); err != nil {
		t.Fatal(err)
	}
	for i := range c.got {
		if c.got[i]["eid"] != text.got[i]["eid"] || text.got[i]["qty"] == c.got[i]["qty"] {
			t.Errorf("row %d: %v and %v", i, c.got[i], text.got[i])
		}
	}
}

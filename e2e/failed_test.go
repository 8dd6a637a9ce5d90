package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/cassandratest"
)

// Nothing refused is lost and nothing permanent is a 5xx: in a batch the
// valid events are stored and each invalid one is kept as a failed event
// with its reason, its place and the message as sent; the answer says how
// many of each. A request refused whole for what it holds is kept too, and
// a pixel or redirect still answers its GIF or 302.
func TestFailedEventsKept(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	deep := `{"type":"track","userId":"u4","event":"too deep","properties":{"x":[[[[[[[[[[1]]]]]]]]]]}}`
	type answer struct {
		Accepted int
		Failed   int
		Failures []struct {
			Index  int
			Reason string
			Error  string
		}
	}
	r := do(t, "POST", base+"/v1/batch", []byte(`{"batch":[{"type":"track","userId":"u1","event":"ok"},{"type":"track","event":"no id"},
		{"type":"track","userId":"u3","event":"Install Attributed","properties":{"campaign":{"name":"spring"}}},`+deep+`]}`), basic(writeKey))
	var seg answer
	if r.status != 200 || json.Unmarshal(r.body, &seg) != nil || seg.Accepted != 2 || seg.Failed != 2 || len(seg.Failures) != 2 ||
		seg.Failures[0].Index != 1 || seg.Failures[0].Reason != "missing_id" || seg.Failures[1].Index != 3 || seg.Failures[1].Reason != "invalid_field" {
		t.Fatalf("Segment batch: %d %s", r.status, r.body)
	}
	r = do(t, "POST", base+"/tr/v1/", []byte(`[{"ename":"tr ok","app":"shop"},{"ename":"tr bad","app":"shop","vid":"v9","w":"wide"}]`),
		map[string]string{"Content-Type": "application/json"})
	var tr answer
	if r.status != 200 || json.Unmarshal(r.body, &tr) != nil || tr.Accepted != 1 || tr.Failed != 1 || tr.Failures[0].Index != 1 ||
		tr.Failures[0].Reason != "invalid_field" || !strings.Contains(tr.Failures[0].Error, `"w"`) {
		t.Fatalf("/tr/v1 batch: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"ename":"alone","w":"wide"}`), map[string]string{"Content-Type": "application/json"}); r.status != 400 || reason(t, r) != "invalid_field" {
		t.Fatalf("a single invalid event: %d %s", r.status, r.body)
	}
	if r := do(t, "GET", base+"/rdr/v1/ename/click/w/wide?url=/x", nil, nil); r.status != 302 {
		t.Fatalf("an invalid click: %d", r.status)
	}
	if r := do(t, "GET", base+"/img/v1/ename/open/first/maybe", nil, nil); r.status != 200 || !strings.HasPrefix(string(r.body), "GIF89a") {
		t.Fatalf("an invalid open: %d", r.status)
	}

	stored := byName(waitStored(t, dir, 3, 10*time.Second))
	for _, name := range []string{"ok", "Install Attributed", "tr ok"} {
		if stored[name] == nil {
			t.Errorf("%s not stored", name)
		}
	}
	fs := waitFailed(t, dir, 6)
	byReason := map[string]int{}
	for _, f := range fs {
		byReason[f.Endpoint+" "+f.Reason]++
		switch f.EventName {
		case "no id":
			if f.Endpoint != "segment" || f.App != segmentApp || f.Index != 1 || string(f.Payload) != `{"type":"track","event":"no id"}` {
				t.Errorf("no id: %+v payload %s", f, f.Payload)
			}
		case "too deep":
			if f.UserID != "u4" || f.Index != 3 || string(f.Payload) != deep {
				t.Errorf("too deep: %+v payload %s", f, f.Payload)
			}
		case "tr bad":
			if f.App != "shop" || f.VisitorID != "v9" || f.Index != 1 || string(f.Payload) != `{"ename":"tr bad","app":"shop","vid":"v9","w":"wide"}` {
				t.Errorf("tr bad: %+v payload %s", f, f.Payload)
			}
		}
	}
	want := map[string]int{"segment missing_id": 1, "segment invalid_field": 1, "tr invalid_field": 2, "rdr invalid_field": 1, "img invalid_field": 1}
	for k, n := range want {
		if byReason[k] != n {
			t.Errorf("failed %s: %d, want %d (all: %v)", k, byReason[k], n, byReason)
		}
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	for series, want := range map[string]float64{
		`spoor_collector_failed_events_total{endpoint="tr",reason="invalid_field"}`:   2,
		`spoor_collector_failed_events_total{endpoint="segment",reason="missing_id"}`: 1,
		`spoor_failed_store_events_stored_total`:                                      6,
	} {
		if !metricIs(m.body, series, want) {
			t.Errorf("metrics lack %s %v", series, want)
		}
	}
}

// With Cassandra the failed events land in failed_events, by app and day,
// with their reason and the message as sent.
func TestFailedEventsInCassandra(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	dir := t.TempDir()
	a := start(t, cassandraConfig(t, dir, ks))
	defer a.Stop()
	base := "http://" + a.Addr()
	if r := do(t, "POST", base+"/tr/v1/", []byte(`[{"ename":"fine","app":"shop","vid":"v1"},{"ename":"bad","app":"shop","vid":"v1","w":"wide"}]`), nil); r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"ename":`), nil); r.status != 400 {
		t.Fatalf("bad JSON: %d %s", r.status, r.body)
	}
	waitRows(t, ks, 1, 30*time.Second)
	type row struct{ app, endpoint, name, visitor, reason, payload string }
	var rows []row
	deadline := time.Now().Add(30 * time.Second)
	for len(rows) < 2 && time.Now().Before(deadline) {
		rows = rows[:0]
		iter := s.Query(fmt.Sprintf("SELECT app, endpoint, event_name, visitor_id, reason, payload FROM %s.failed_events", ks)).Iter()
		var r row
		for iter.Scan(&r.app, &r.endpoint, &r.name, &r.visitor, &r.reason, &r.payload) {
			rows = append(rows, r)
		}
		if err := iter.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].app > rows[j].app })
	want := []row{{"shop", "tr", "bad", "v1", "invalid_field", `{"ename":"bad","app":"shop","vid":"v1","w":"wide"}`},
		{"-", "tr", "", "", "invalid_json", `"{\"ename\":"`}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("failed_events:\n got %v\nwant %v", rows, want)
	}
}

package demo

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testOptions() Options {
	o := Defaults()
	o.Visitors = 300
	o.Start = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	return o
}

func simulate(o Options) ([]Request, *Truth) {
	var all []Request
	t := newTruth()
	for i := range o.Visitors {
		r, vt := o.visitor(i)
		all = append(all, r...)
		t.add(vt)
	}
	t.finish(o)
	return all, t
}

// The same seed gives the same bytes, so a rerun stores nothing twice and
// the truth is reproducible; another seed gives other traffic.
func TestDeterministic(t *testing.T) {
	o := testOptions()
	a, ta := simulate(o)
	b, tb := simulate(o)
	if len(a) != len(b) {
		t.Fatalf("%d requests, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Body, b[i].Body) {
			t.Fatalf("request %d differs", i)
		}
	}
	ja, _ := json.Marshal(ta)
	jb, _ := json.Marshal(tb)
	if !bytes.Equal(ja, jb) {
		t.Fatal("truth differs between two runs of the same seed")
	}
	o.Seed = 2
	c, _ := simulate(o)
	if len(c) > 0 && len(a) > 0 && bytes.Equal(c[0].Body, a[0].Body) {
		t.Fatal("another seed must give other traffic")
	}
}

// The truth adds up: events by name sum to the events, and every count the
// analyses check is what the requests carry.
func TestTruthMatchesTheRequests(t *testing.T) {
	o := testOptions()
	reqs, tr := simulate(o)
	var byName int64
	for _, n := range tr.EventsByName {
		byName += n
	}
	if byName != tr.Events {
		t.Fatalf("events by name %d, events %d", byName, tr.Events)
	}
	events, purchases, bots := int64(0), int64(0), int64(0)
	for _, r := range reqs {
		switch {
		case r.Method == "GET":
			events++
		case strings.HasPrefix(string(r.Body), "["):
			var batch []map[string]any
			if err := json.Unmarshal(r.Body, &batch); err != nil {
				t.Fatal(err)
			}
			if len(batch) > 20 {
				t.Fatalf("a batch of %d events: the SDK sends at most 20", len(batch))
			}
			events += int64(len(batch))
			if strings.Contains(r.UserAgent, "bot") || strings.Contains(r.UserAgent, "Headless") || strings.Contains(r.UserAgent, "Bot") {
				bots += int64(len(batch))
			}
			for _, e := range batch {
				for _, k := range []string{"eid", "vid", "cidx", "created", "ename", "sid"} {
					if _, ok := e[k]; !ok {
						t.Fatalf("a browser event without %s: %v", k, e)
					}
				}
				if e["ename"] == "form_change" || e["ename"] == "form_focus" {
					if _, ok := e["props"].(map[string]any)["value"]; ok {
						t.Fatal("a form event carries a value")
					}
				}
			}
		default:
			events++
			purchases++
		}
	}
	var orders, converted int64
	for _, n := range tr.Orders {
		orders += n
	}
	for _, n := range tr.Experiment.Converted {
		converted += n
	}
	if events != tr.Events || purchases != orders || orders != converted || bots != tr.BotEvents {
		t.Fatalf("requests carry %d events (%d purchases, %d from bots); truth says %d (%d orders, %d converted, %d from bots)",
			events, purchases, bots, tr.Events, orders, converted, tr.BotEvents)
	}
	if tr.Bots == 0 || tr.Humans == 0 || len(tr.Loss.Dropped) == 0 || tr.Experiment.Observed["A"] == 0 || tr.Experiment.Observed["B"] == 0 {
		t.Fatalf("the run lacks bots, humans, losses or an arm: %+v", tr)
	}
	// A gap is counted on the day of the message after it, so per day the
	// visible loss may exceed what was lost that day; in all, never.
	var visible, dropped int64
	for _, n := range tr.Loss.VisibleLost {
		visible += n
	}
	for _, n := range tr.Loss.Dropped {
		dropped += n
	}
	if visible > dropped || visible == 0 {
		t.Fatalf("%d visible gaps, %d lost", visible, dropped)
	}
}

// Two apps sent with one seed share no event id: otherwise the bus's dedup
// window would keep only the first app's copy of each.
func TestAppsShareNoEventIDs(t *testing.T) {
	ids := func(app string) map[string]bool {
		o := testOptions()
		o.Visitors, o.App = 50, app
		reqs, _ := simulate(o)
		out := map[string]bool{}
		for _, r := range reqs {
			for _, m := range eidPattern.FindAllSubmatch(r.Body, -1) {
				out[string(m[1])] = true
			}
		}
		return out
	}
	a, b := ids("shop_100000"), ids("shop_1000000")
	if len(a) == 0 {
		t.Fatal("no event ids found in the requests")
	}
	for id := range a {
		if b[id] {
			t.Fatalf("event id %s sent by both apps", id)
		}
	}
}

var eidPattern = regexp.MustCompile(`"eid":"([0-9a-f-]{36})"`)

package collector

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spoor-dev/spoor/collector/spool"
)

func TestGrouperJoin(t *testing.T) {
	big := records(1, maxMsgBytes/2)
	cases := []struct {
		name    string
		first   []spool.Record
		shared  bool
		second  []spool.Record
		sealed  bool // the first group was sealed before the second joined
		joins   bool // the second request joins the first's group
		message int  // messages the first group publishes
	}{
		{"a concurrent request joins the open group", records(1, 10), true, records(1, 10), false, true, 1},
		{"a sealed group takes no one", records(1, 10), true, records(1, 10), true, false, 1},
		{"a request with client ids keeps its own group", records(1, 10), false, records(1, 10), false, false, 1},
		{"the message size cap opens a new group", big, true, big, false, false, 1},
		{"the event cap opens a new group", records(maxGroupEvents, 1), true, records(1, 1), false, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGrouper(1)
			first, leader := g.join(c.first, c.shared)
			if !leader {
				t.Fatal("the first request must lead")
			}
			if c.sealed {
				g.seal(first)
			}
			second, leader2 := g.join(c.second, true)
			if joined := second == first; joined != c.joins || leader2 == c.joins {
				t.Fatalf("joined %v (leader %v), want joined %v", joined, leader2, c.joins)
			}
			if n := len(first.messages()); n != c.message {
				t.Fatalf("%d messages, want %d", n, c.message)
			}
		})
	}
}

func TestGroupMessages(t *testing.T) {
	one := records(1, 10)
	g := &group{recs: one, bytes: len(one[0].Data) + 1}
	if m := g.messages(); len(m) != 1 || m[0].ID != one[0].ID {
		t.Fatalf("a lone event must keep its id: %+v", m)
	}

	// Three requests (one of them a batch) become one NDJSON message, in
	// order, under an id that depends on their ids only.
	join := func(reqs ...[]spool.Record) *group {
		gr := newGrouper(1)
		var grp *group
		for _, r := range reqs {
			grp, _ = gr.join(pack(r), true)
		}
		return grp
	}
	a, b, batch := records(1, 5), records(2, 7)[1:], records(4, 9)
	m := join(a, b, batch).messages()
	if len(m) != 1 || !strings.HasPrefix(m[0].ID, "g-") {
		t.Fatalf("messages %+v", m)
	}
	lines := bytes.Split(m[0].Data, []byte{'\n'})
	want := append(append(append([]spool.Record{}, a...), b...), batch...)
	if len(lines) != len(want) || eventCount(m[0]) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i := range want {
		if !bytes.Equal(lines[i], want[i].Data) {
			t.Fatalf("line %d = %s, want %s", i, lines[i], want[i].Data)
		}
	}
	if again := join(a, b, batch).messages(); again[0].ID != m[0].ID {
		t.Fatal("the same members must give the same id (the spool replays under it)")
	}
	if other := join(b, a, batch).messages(); other[0].ID == m[0].ID {
		t.Fatal("other members must give another id")
	}
}

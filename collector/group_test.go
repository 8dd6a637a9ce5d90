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
		{"a request with client ids does not join a shared group", records(1, 10), false, records(1, 10), false, false, 1},
		{"the message size cap opens a new group", big, true, big, false, false, 1},
		{"the event cap opens a new group", records(maxGroupEvents, 1), true, records(1, 1), false, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGrouper(1, 1)
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
	g := newGrouper(1, 1)
	one := records(1, 10)
	own, _ := g.join(pack(one), false)
	if m := own.messages(); len(m) != 1 || m[0].ID != one[0].ID {
		t.Fatalf("a request with a client id must keep it as the dedup id: %+v", m)
	}
	batch := records(4, 9)
	ownBatch, _ := newGrouper(1, 1).join(pack(batch), false)
	if m := ownBatch.messages(); len(m) != 1 || !strings.HasPrefix(m[0].ID, "b-") {
		t.Fatalf("a batch with client ids must keep its batch id: %+v", m)
	}
	lone, _ := newGrouper(1, 1).join(pack(one), true)
	if m := lone.messages(); len(m) != 1 || m[0].ID != "" || !bytes.Equal(m[0].Data, one[0].Data) {
		t.Fatalf("a shared group needs no dedup id: %+v", m)
	}

	// Three requests (one of them a batch) become one NDJSON message, in
	// order, without a dedup id.
	gr := newGrouper(1, 1)
	a, b := records(1, 5), records(2, 7)[1:]
	var grp *group
	for _, r := range [][]spool.Record{a, b, batch} {
		grp, _ = gr.join(pack(r), true)
	}
	m := grp.messages()
	if len(m) != 1 || m[0].ID != "" {
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
}

func TestGroupsArePerPartition(t *testing.T) {
	g := newGrouper(1, 3)
	inPart := func(p int) []spool.Record {
		r := records(1, 10)
		r[0].Part = p
		return r
	}
	a, leadA := g.join(inPart(0), true)
	b, leadB := g.join(inPart(2), true)
	a2, leadA2 := g.join(inPart(0), true)
	if !leadA || !leadB || leadA2 {
		t.Fatalf("leaders %v %v %v, want true true false", leadA, leadB, leadA2)
	}
	if a == b || a2 != a {
		t.Fatal("a request must join the open group of its own partition only")
	}
	for _, grp := range []*group{a, b} {
		for _, m := range grp.messages() {
			if m.Part != grp.part {
				t.Fatalf("group of partition %d publishes to %d", grp.part, m.Part)
			}
		}
	}
	g.seal(a)
	if c, lead := g.join(inPart(2), true); c != b || lead {
		t.Fatal("sealing partition 0's group must leave partition 2's open")
	}
}

// Requests with client ids that arrive together share a group, published
// together, but each keeps its message and its dedup id; they never mix
// with a shared group, and a sealed group takes no one.
func TestClientIDRequestsShareAGroupNotAMessage(t *testing.T) {
	g := newGrouper(1, 1)
	single, batch := records(1, 10), records(3, 10)
	first, lead := g.join(pack(single), false)
	second, lead2 := g.join(pack(batch), false)
	if !lead || lead2 || second != first {
		t.Fatalf("leaders %v %v, same group %v: want the second client-id request in the first's group", lead, lead2, second == first)
	}
	if _, slots := g.kind(first.shared); first.shared || slots != g.owners {
		t.Fatal("a client-id group must wait for the client-id slots, not the shared ones")
	}
	m := first.messages()
	if len(m) != 2 || m[0].ID != single[0].ID || !strings.HasPrefix(m[1].ID, "b-") {
		t.Fatalf("messages %+v, want the single's event id and the batch's id, a message each", m)
	}
	if first.events != 4 {
		t.Fatalf("%d events, want 4", first.events)
	}
	shared, lead3 := g.join(pack(records(1, 10)), true)
	if _, slots := g.kind(shared.shared); !lead3 || shared == first || slots != g.slots {
		t.Fatal("a request without client ids must open a shared group of its own kind")
	}
	g.seal(first)
	if third, lead4 := g.join(pack(records(1, 10)), false); !lead4 || third == first {
		t.Fatal("a sealed client-id group must take no one")
	}
	if again, lead5 := g.join(pack(records(1, 10)), true); lead5 || again != shared {
		t.Fatal("sealing the client-id group must leave the shared group open")
	}
	failed := records(1, 10)
	failed[0].Part = -1
	if alone, lead6 := g.join(failed, false); !lead6 || alone.part >= 0 { // commit publishes these at once
		t.Fatal("the failed stream's requests are published at once, alone")
	}
}

package collector

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/bus"
)

// rec is one spooled message of events e<first>.. in partition part; id
// "" means its event ids were assigned here (it may be joined).
func rec(part int, id string, names ...string) spool.Record {
	return spool.Record{ID: id, Part: part, Data: []byte(strings.Join(names, "\n"))}
}

func TestForwardMessages(t *testing.T) {
	many := func(n, size int) []spool.Record {
		out := make([]spool.Record, n)
		for i := range out {
			out[i] = spool.Record{Part: 0, Data: []byte(fmt.Sprintf("%0*d", size, i))}
		}
		return out
	}
	cases := []struct {
		name string
		in   []spool.Record
		want []string // each message: its id's kind ("f" joined, or the client id) and its bytes
	}{
		{"neighbours of one partition are joined", []spool.Record{rec(0, "", "a"), rec(0, "", "b", "c"), rec(0, "", "d")},
			[]string{"f a\nb\nc\nd"}},
		{"each partition its own message, in first-seen order", []spool.Record{rec(0, "", "a"), rec(1, "", "b"), rec(0, "", "c")},
			[]string{"f a\nc", "f b"}},
		{"a client id keeps its own message and its partition's order", []spool.Record{rec(0, "", "a"), rec(0, "e1", "b"), rec(0, "", "c")},
			[]string{"f a", "e1 b", "f c"}},
		{"another partition's client id does not cut", []spool.Record{rec(0, "", "a"), rec(1, "e1", "b"), rec(0, "", "c")},
			[]string{"f a\nc", "e1 b"}},
		{"failed events are never joined, each has an id of its bytes", []spool.Record{rec(bus.FailedPart, "", "x"), rec(bus.FailedPart, "", "y")},
			[]string{"f x", "f y"}},
		{"a failed event's own id is kept", []spool.Record{rec(bus.FailedPart, "e1", "x")},
			[]string{"e1 x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := forwardMessages(c.in)
			var desc []string
			for _, m := range got {
				kind := m.ID
				if strings.HasPrefix(m.ID, "f-") {
					kind = "f"
					if m.ID != joinedID(m.Data) {
						t.Fatalf("id %s is not derived from the bytes", m.ID)
					}
				}
				desc = append(desc, kind+" "+string(m.Data))
			}
			if fmt.Sprint(desc) != fmt.Sprint(c.want) {
				t.Fatalf("got %q, want %q", desc, c.want)
			}
		})
	}
	t.Run("the event cap", func(t *testing.T) {
		got := forwardMessages(many(maxGroupEvents+10, 4))
		if len(got) != 2 || eventCount(got[0]) != maxGroupEvents || eventCount(got[1]) != 10 {
			t.Fatalf("%d messages (%d, ...), want %d and 10 events", len(got), eventCount(got[0]), maxGroupEvents)
		}
	})
	t.Run("the byte cap", func(t *testing.T) {
		got := forwardMessages(many(5, maxMsgBytes/3))
		if len(got) != 3 || countEvents(got) != 5 {
			t.Fatalf("%d messages holding %d events, want 3 holding 5", len(got), countEvents(got))
		}
		for _, m := range got {
			if len(m.Data) > maxMsgBytes {
				t.Fatalf("a message of %d bytes", len(m.Data))
			}
		}
	})
	t.Run("the same segment twice gives the same ids", func(t *testing.T) {
		in := []spool.Record{rec(0, "", "a"), rec(1, "", "b"), rec(0, "e1", "c"), rec(0, "", "d")}
		a, b := forwardMessages(in), forwardMessages(in)
		for i := range a {
			if a[i].ID != b[i].ID {
				t.Fatalf("message %d: %s then %s", i, a[i].ID, b[i].ID)
			}
		}
		if a[0].ID == a[3].ID {
			t.Fatal("two different messages share an id")
		}
	})
}

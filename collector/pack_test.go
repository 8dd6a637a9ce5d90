package collector

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spoor-dev/spoor/collector/spool"
)

func records(n, size int) []spool.Record {
	out := make([]spool.Record, n)
	for i := range out {
		out[i] = spool.Record{ID: fmt.Sprintf("id-%d", i), Data: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", size)))}
	}
	return out
}

func TestPack(t *testing.T) {
	cases := []struct {
		name     string
		evs      []spool.Record
		messages int
	}{
		{"single event keeps its id", records(1, 10), 1},
		{"small batch is one message", records(20, 100), 1},
		{"large batch is split under the size cap", records(40, 30<<10), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs := pack(c.evs)
			if len(msgs) != c.messages {
				t.Fatalf("%d messages, want %d", len(msgs), c.messages)
			}
			var lines [][]byte
			for _, m := range msgs {
				if len(m.Data) > maxMsgBytes {
					t.Fatalf("message of %d bytes", len(m.Data))
				}
				lines = append(lines, bytes.Split(m.Data, []byte{'\n'})...)
			}
			if len(lines) != len(c.evs) || countEvents(msgs) != len(c.evs) {
				t.Fatalf("%d lines for %d events", len(lines), len(c.evs))
			}
			for i, l := range lines { // order kept, bytes unchanged
				if !bytes.Equal(l, c.evs[i].Data) {
					t.Fatalf("line %d = %s", i, l)
				}
			}
			if len(c.evs) == 1 && msgs[0].ID != c.evs[0].ID {
				t.Fatalf("single event id %q", msgs[0].ID)
			}
		})
	}
	// The same batch retried gets the same dedup id; another batch does not.
	a, b := pack(records(5, 10)), pack(records(5, 10))
	other := pack(records(6, 10))
	if a[0].ID != b[0].ID || a[0].ID == other[0].ID || !strings.HasPrefix(a[0].ID, "b-") {
		t.Fatalf("ids %s %s %s", a[0].ID, b[0].ID, other[0].ID)
	}
}

func TestByPartition(t *testing.T) {
	recs := func(parts ...int) []spool.Record {
		out := make([]spool.Record, len(parts))
		for i, p := range parts {
			out[i] = spool.Record{ID: fmt.Sprintf("e%d", i), Part: p}
		}
		return out
	}
	cases := []struct {
		name  string
		parts []int
		want  [][]string // ids per chunk, in order
	}{
		{"one event", []int{2}, [][]string{{"e0"}}},
		{"one partition stays whole", []int{1, 1, 1}, [][]string{{"e0", "e1", "e2"}}},
		{"split in order of first appearance, order kept within each", []int{2, 0, 2, 1, 0},
			[][]string{{"e0", "e2"}, {"e1", "e4"}, {"e3"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := byPartition(recs(c.parts...))
			if len(got) != len(c.want) {
				t.Fatalf("%d chunks, want %d", len(got), len(c.want))
			}
			for i, chunk := range got {
				var ids []string
				for _, r := range chunk {
					ids = append(ids, r.ID)
					if r.Part != chunk[0].Part {
						t.Fatalf("chunk %d mixes partitions", i)
					}
				}
				if strings.Join(ids, ",") != strings.Join(c.want[i], ",") {
					t.Fatalf("chunk %d = %v, want %v", i, ids, c.want[i])
				}
			}
		})
	}
}

func TestPackKeepsThePartition(t *testing.T) {
	evs := records(40, 30<<10)
	for i := range evs {
		evs[i].Part = 3
	}
	for _, m := range pack(evs) {
		if m.Part != 3 {
			t.Fatalf("message in partition %d, want 3", m.Part)
		}
	}
}

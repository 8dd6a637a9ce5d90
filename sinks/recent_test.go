package sinks

import (
	"fmt"
	"testing"
)

// recent forgets exactly the oldest ids beyond its window, before and
// after its ring wraps.
func TestRecentWindow(t *testing.T) {
	for _, tc := range []struct {
		n, added int
	}{
		{n: 0, added: 5},
		{n: 3, added: 2},
		{n: 3, added: 3},
		{n: 3, added: 4},
		{n: 3, added: 10},
		{n: 1, added: 7},
	} {
		t.Run(fmt.Sprintf("n=%d/added=%d", tc.n, tc.added), func(t *testing.T) {
			r := NewRecent(tc.n)
			for i := range tc.added {
				r.Add(fmt.Sprintf("id-%d", i))
				r.Add(fmt.Sprintf("id-%d", i)) // a repeat changes nothing
			}
			for i := range tc.added {
				want := i >= tc.added-tc.n
				if got := r.Has(fmt.Sprintf("id-%d", i)); got != want {
					t.Errorf("has(id-%d) = %v, want %v", i, got, want)
				}
			}
			if len(r.set) != min(tc.n, tc.added) || len(r.ring) != min(tc.n, tc.added) {
				t.Errorf("holds %d ids in its set and %d in its ring, want %d", len(r.set), len(r.ring), min(tc.n, tc.added))
			}
		})
	}
}

func TestRecentForgetsTheOldest(t *testing.T) {
	ids := []string{
		"0190a3c0-0000-7000-8000-000000000001",
		"0190a3c0-0000-7000-8000-000000000002",
		"not-a-uuid",
		"0190a3c0-0000-7000-8000-000000000003",
	}
	r := NewRecent(3)
	for _, id := range ids[:3] {
		r.Add(id)
		r.Add(id) // a repeat takes no second slot
	}
	for _, id := range ids[:3] {
		if !r.Has(id) {
			t.Fatalf("%s forgotten too early", id)
		}
	}
	if r.Has(ids[3]) || r.Has("not-a-uuid-either") {
		t.Fatal("unknown id reported as seen")
	}
	r.Add(ids[3]) // evicts the oldest
	if r.Has(ids[0]) || !r.Has(ids[1]) || !r.Has(ids[2]) || !r.Has(ids[3]) {
		t.Fatal("eviction is not oldest-first")
	}
	if off := NewRecent(0); off.Has(ids[0]) {
		t.Fatal("a window of 0 remembers nothing")
	} else {
		off.Add(ids[0])
		if off.Has(ids[0]) {
			t.Fatal("a window of 0 remembers nothing")
		}
	}
}

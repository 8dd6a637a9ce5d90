package file

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
			r := newRecent(tc.n)
			for i := range tc.added {
				r.add(fmt.Sprintf("id-%d", i))
				r.add(fmt.Sprintf("id-%d", i)) // a repeat changes nothing
			}
			for i := range tc.added {
				want := i >= tc.added-tc.n
				if got := r.has(fmt.Sprintf("id-%d", i)); got != want {
					t.Errorf("has(id-%d) = %v, want %v", i, got, want)
				}
			}
			if len(r.set) != min(tc.n, tc.added) || len(r.ring) != min(tc.n, tc.added) {
				t.Errorf("holds %d ids in its set and %d in its ring, want %d", len(r.set), len(r.ring), min(tc.n, tc.added))
			}
		})
	}
}

package file

import "testing"

func TestRecentForgetsTheOldest(t *testing.T) {
	ids := []string{
		"0190a3c0-0000-7000-8000-000000000001",
		"0190a3c0-0000-7000-8000-000000000002",
		"not-a-uuid",
		"0190a3c0-0000-7000-8000-000000000003",
	}
	r := newRecent(3)
	for _, id := range ids[:3] {
		r.add(id)
		r.add(id) // a repeat takes no second slot
	}
	for _, id := range ids[:3] {
		if !r.has(id) {
			t.Fatalf("%s forgotten too early", id)
		}
	}
	if r.has(ids[3]) || r.has("not-a-uuid-either") {
		t.Fatal("unknown id reported as seen")
	}
	r.add(ids[3]) // evicts the oldest
	if r.has(ids[0]) || !r.has(ids[1]) || !r.has(ids[2]) || !r.has(ids[3]) {
		t.Fatal("eviction is not oldest-first")
	}
	if off := newRecent(0); off.has(ids[0]) {
		t.Fatal("a window of 0 remembers nothing")
	} else {
		off.add(ids[0])
		if off.has(ids[0]) {
			t.Fatal("a window of 0 remembers nothing")
		}
	}
}

package loss

import "testing"

func TestVisitorObserve(t *testing.T) {
	for _, c := range []struct {
		name string
		idx  []int64
		redo []bool
		want Counts
	}{
		{"in order", []int64{1, 2, 3, 4}, nil, Counts{Received: 4}},
		{"first seen late in the sequence", []int64{5, 6}, nil, Counts{Received: 2, Gap: 4}},
		{"a gap", []int64{1, 2, 5}, nil, Counts{Received: 3, Gap: 2}},
		{"a gap filled late", []int64{1, 3, 2}, nil, Counts{Received: 3, Gap: 1, Late: 1}},
		{"a duplicate", []int64{1, 2, 2, 1}, nil, Counts{Received: 2, Duplicate: 2}},
		{"the sink's redelivery is not a duplicate", []int64{1, 2, 2}, []bool{false, false, true}, Counts{Received: 2}},
		{"a late one that came twice", []int64{1, 4, 2, 2}, nil, Counts{Received: 3, Gap: 2, Late: 1, Duplicate: 1}},
		{"a jump past the window", []int64{1, 100, 99, 30}, nil, Counts{Received: 4, Gap: 98, Late: 2}},
		{"window edge", []int64{1, 66, 2, 2}, nil, Counts{Received: 3, Gap: 64, Late: 1, Duplicate: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v visitor
			var got Counts
			for i, idx := range c.idx {
				got.add(v.observe(idx, c.redo != nil && c.redo[i]))
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestCountsShare(t *testing.T) {
	c := Counts{Received: 97, Gap: 5, Late: 2}
	if c.Missing() != 3 || c.Expected() != 100 || c.Share() != 0.03 {
		t.Errorf("missing %d expected %d share %v", c.Missing(), c.Expected(), c.Share())
	}
	if (Counts{}).Share() != 0 {
		t.Error("share of nothing")
	}
}

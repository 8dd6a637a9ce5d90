package bus

import (
	"fmt"
	"testing"
)

func TestPartitionIsStable(t *testing.T) {
	// Fixed values (FNV-1a 32 of the key, mod n, computed outside Go): a
	// collector of another version, or a replayed spool, must send a
	// visitor to the same partition, or its order is lost.
	cases := []struct {
		key  string
		n    int
		want int
	}{
		{"anything", 1, 0},
		{"v1", 3, 0},
		{"14fb0860-b4bf-11e9-8971-7b80435315ac", 3, 2},
		{"14fb0860-b4bf-11e9-8971-7b80435315ac", 16, 15},
		{"", 3, 1},
	}
	for _, c := range cases {
		if got := Partition(c.key, c.n); got != c.want {
			t.Errorf("Partition(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
}

func TestPartitionSpreadsVisitors(t *testing.T) {
	const n, visitors = 3, 30000
	count := make([]int, n)
	for i := range visitors {
		count[Partition(fmt.Sprintf("visitor-%d", i), n)]++
	}
	for p, c := range count {
		if c < visitors/n*9/10 || c > visitors/n*11/10 {
			t.Fatalf("partition %d got %d of %d visitors: %v", p, c, visitors, count)
		}
	}
}

func TestStreamAndSubjectNames(t *testing.T) {
	one := &Bus{opts: Options{Stream: "S", Subject: "s.e", Partitions: 1}}
	three := &Bus{opts: Options{Stream: "S", Subject: "s.e", Partitions: 3}}
	if one.StreamName(0) != "S" || one.SubjectName(0) != "s.e" {
		t.Fatalf("one partition keeps the plain names: %s %s", one.StreamName(0), one.SubjectName(0))
	}
	if three.StreamName(2) != "S_2" || three.SubjectName(2) != "s.e.2" {
		t.Fatalf("partition names: %s %s", three.StreamName(2), three.SubjectName(2))
	}
}

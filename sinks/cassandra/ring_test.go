package cassandra

import (
	"fmt"
	"strings"
	"testing"
)

// The token the sink computes is the one Cassandra computes, for keys of
// every tail length and with bytes above 0x7f (Cassandra sign-extends
// them).
func TestPartitionTokenIsCassandras(t *testing.T) {
	s, ks, _ := openSink(t)
	var keys [][2]string
	for n := 0; n < 40; n++ {
		keys = append(keys, [2]string{"shop", strings.Repeat("v", n)}, [2]string{fmt.Sprintf("app-%d", n), fmt.Sprintf("é-ü-%d-☃", n*7919)})
	}
	keys = append(keys, [2]string{"", "x"}, [2]string{"a", "5f0c1f4e-8e3a-4c1b-9d2a-0c7c3b1a2e4f"})
	for _, k := range keys {
		if err := s.Query(fmt.Sprintf("INSERT INTO %s.visitors (app, visitor_id, last_url) VALUES (?, ?, 'u')", ks), k[0], k[1]).Exec(); err != nil {
			t.Fatal(err)
		}
		var want int64
		if err := s.Query(fmt.Sprintf("SELECT token(app, visitor_id) FROM %s.visitors WHERE app = ? AND visitor_id = ?", ks), k[0], k[1]).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := partitionToken(k[0], k[1]); got != want {
			t.Errorf("token(%q, %q) = %d, Cassandra says %d", k[0], k[1], got, want)
		}
	}
}

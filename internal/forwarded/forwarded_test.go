package forwarded

import (
	"net"
	"testing"
)

func TestClient(t *testing.T) {
	trust, err := Parse([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.5", "198.51.100.1", "203.0.113.5"},                  // untrusted peer: header ignored
		{"10.1.1.1", "198.51.100.1", "198.51.100.1"},                    // one trusted hop
		{"10.1.1.1", "6.6.6.6, 198.51.100.1, 10.2.2.2", "198.51.100.1"}, // spoofed left of the client
		{"127.0.0.1", "10.2.2.2", "10.2.2.2"},                           // only trusted hops: the left-most
		{"10.1.1.1", "not-an-ip", "10.1.1.1"},
	} {
		if got := trust.Client(net.ParseIP(tc.peer), tc.xff).String(); got != tc.want {
			t.Errorf("peer %s xff %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if _, err := Parse([]string{"nonsense"}); err == nil {
		t.Error("nonsense parsed")
	}
}

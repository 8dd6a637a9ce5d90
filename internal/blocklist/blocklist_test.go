package blocklist

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

func TestParseAndMatch(t *testing.T) {
	e, err := Parse([]byte("# blocked\n203.0.113.7\n198.51.100.0/24  # a scraper's network\n2001:db8::/32\nvid:v-bad\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := &List{blocked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x"}, []string{"by"})}
	l.set.Store(e)
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"203.0.113.7", true}, {"203.0.113.8", false}, {"198.51.100.200", true}, {"2001:db8::1", true}, {"2001:db9::1", false}, {"::ffff:203.0.113.7", true}} {
		if got := l.IP(net.ParseIP(tc.ip)); got != tc.want {
			t.Errorf("IP(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	if !l.Visitor("v-bad") || l.Visitor("v-good") || l.Visitor("") {
		t.Error("visitor matching")
	}
	if n := testutil.ToFloat64(l.blocked.WithLabelValues("ip")); n != 4 {
		t.Errorf("counted %v blocked addresses, want 4", n)
	}
	var none *List
	if none.IP(net.ParseIP("203.0.113.7")) || none.Visitor("v-bad") {
		t.Error("a nil list blocks nothing")
	}
}

func TestParseRefusesGarbage(t *testing.T) {
	for _, bad := range []string{"not-an-ip", "10.0.0.0/33", "vid:", "1.2.3.4.5"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The list follows its file without a restart: a change is picked up by
// the watch, SIGHUP reloads at once, and a broken file keeps the last good
// list in force.
func TestReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blocked.txt")
	if err := os.WriteFile(path, []byte("203.0.113.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Watch(ctx, 20*time.Millisecond)
	ip1, ip2 := net.ParseIP("203.0.113.7"), net.ParseIP("203.0.113.9")
	if !l.IP(ip1) || l.IP(ip2) {
		t.Fatal("initial list")
	}
	write := func(s string) {
		tmp := path + ".tmp"
		os.WriteFile(tmp, []byte(s), 0o644)
		os.Rename(tmp, path) // as editors save
	}
	write("203.0.113.9\n")
	waitFor(t, func() bool { return l.IP(ip2) && !l.IP(ip1) }, "the changed file")
	write("garbage here\n")
	time.Sleep(100 * time.Millisecond)
	if !l.IP(ip2) {
		t.Fatal("a broken file replaced the list in force")
	}
	os.WriteFile(path, []byte("vid:v-9\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, func() bool { return l.Visitor("v-9") && !l.IP(ip2) }, "SIGHUP")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

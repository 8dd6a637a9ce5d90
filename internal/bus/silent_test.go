package bus

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// silentProxy forwards TCP to upstream until silence is set; from then on
// it drops every byte both ways without closing anything, as a partitioned
// link or a dead middlebox does.
type silentProxy struct {
	ln      net.Listener
	silence atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func newSilentProxy(t *testing.T, upstream string) *silentProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silentProxy{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go p.pipe(c, u)
			go p.pipe(u, c)
		}
	}()
	return p
}

func (p *silentProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if p.silence.Load() {
			continue // swallowed: no data, no close, no reset
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// A link that goes silent without closing is left within about two ping
// intervals (nats.ping_interval), so the collector stops waiting on it and
// spools at once; with nats.go's default (2 minutes) it took minutes.
func TestSilentLinkIsLeft(t *testing.T) {
	emb, err := StartEmbedded(t.TempDir(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	up := emb.ClientURL()[len("nats://"):]
	p := newSilentProxy(t, up)
	b, err := Connect(Options{URL: "nats://" + p.ln.Addr().String(), Name: "silent-test", ConnectTimeout: time.Second,
		PingInterval: 300 * time.Millisecond, MaxPending: 16}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for deadline := time.Now().Add(5 * time.Second); !b.Connected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never connected through the proxy")
		}
	}
	p.silence.Store(true)
	start := time.Now()
	for b.Connected() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("still connected 5 s after the link went silent (pings every 300 ms)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("left the silent link after %v, want about two ping intervals", took)
	}
	// Reconnecting through the link that is still silent, nats.go holds
	// the connection's lock through each dial and INFO read (up to
	// ConnectTimeout): asking whether the bus is up, or publishing, must not
	// wait on it (a collector spools at once instead).
	var slowest time.Duration
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		t0 := time.Now()
		up := b.Connected()
		_, err := b.Publish(0, "", []byte("x"))
		slowest = max(slowest, time.Since(t0))
		if up || err == nil {
			t.Fatal("the bus says up through a silent link")
		}
	}
	if slowest > 100*time.Millisecond {
		t.Fatalf("Connected and Publish took up to %v while reconnecting, want at once", slowest)
	}
}

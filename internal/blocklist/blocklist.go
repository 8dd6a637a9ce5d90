// Package blocklist holds the addresses and visitors whose traffic the
// collector and the proxy refuse to track: a file of IPs, CIDRs and
// visitor ids, reloaded without a restart when it changes or on SIGHUP.
//
// The file has one entry per line; "#" starts a comment:
//
//	203.0.113.7        # one address
//	198.51.100.0/24    # a network (IPv6 too)
//	vid:0192f3c1-...   # a visitor id
package blocklist

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// List answers whether an address or a visitor is blocked. The zero of
// *List (nil) blocks nothing. Safe for concurrent use; a reload swaps the
// whole set at once.
type List struct {
	path    string
	log     zerolog.Logger
	set     atomic.Pointer[entries]
	blocked *prometheus.CounterVec
	loaded  prometheus.Gauge
	sum     [32]byte // of the file content in force (or last refused)
}

type entries struct {
	ips      map[string]struct{} // canonical net.IP strings
	nets     []*net.IPNet
	visitors map[string]struct{}
}

// Open reads the list at path ("" means an empty list that never changes)
// and registers its metrics on reg.
func Open(path string, reg prometheus.Registerer, log zerolog.Logger) (*List, error) {
	l := &List{path: path, log: log,
		blocked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spoor_blocked_total",
			Help: "Requests refused or events not kept because the address or the visitor is on the block list."}, []string{"by"}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "spoor_blocklist_entries", Help: "Entries of the block list in force."}),
	}
	l.set.Store(&entries{})
	if path != "" {
		if err := l.Reload(); err != nil {
			return nil, err
		}
	}
	for _, c := range []prometheus.Collector{l.blocked, l.loaded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering block list metrics: %w", err)
		}
	}
	l.blocked.WithLabelValues("ip")
	l.blocked.WithLabelValues("visitor")
	return l, nil
}

// Parse reads a block list.
func Parse(b []byte) (*entries, error) {
	e := &entries{ips: map[string]struct{}{}, visitors: map[string]struct{}{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "vid:"):
			id := strings.TrimSpace(strings.TrimPrefix(line, "vid:"))
			if id == "" {
				return nil, fmt.Errorf("line %d: empty visitor id", n)
			}
			e.visitors[id] = struct{}{}
		case strings.Contains(line, "/"):
			_, nw, err := net.ParseCIDR(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q is not a CIDR: %w", n, line, err)
			}
			e.nets = append(e.nets, nw)
		default:
			ip := net.ParseIP(line)
			if ip == nil {
				return nil, fmt.Errorf("line %d: %q is neither an IP address, a CIDR nor vid:<id>", n, line)
			}
			e.ips[ip.String()] = struct{}{}
		}
	}
	return e, sc.Err()
}

func (e *entries) size() int { return len(e.ips) + len(e.nets) + len(e.visitors) }

// Reload reads the file again. A file that does not parse leaves the list
// in force unchanged, and the error says why.
func (l *List) Reload() error {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return fmt.Errorf("reading block list %s: %w", l.path, err)
	}
	l.sum = sha256.Sum256(b)
	e, err := Parse(b)
	if err != nil {
		return fmt.Errorf("parsing block list %s: %w", l.path, err)
	}
	l.set.Store(e)
	l.loaded.Set(float64(e.size()))
	return nil
}

// changed reads the file and compares its content with the last read: a
// modification time can repeat within the kernel's clock tick, content
// cannot hide.
func (l *List) changed() bool {
	b, err := os.ReadFile(l.path)
	return err == nil && sha256.Sum256(b) != l.sum
}

// Watch reloads the list when its file's content changes (read every
// interval; an editor's write-and-rename counts) or the process gets
// SIGHUP, until ctx ends. Only Watch reloads once it runs.
func (l *List) Watch(ctx context.Context, every time.Duration) {
	if l == nil || l.path == "" {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			l.reloadLogged("SIGHUP")
		case <-t.C:
			if l.changed() {
				l.reloadLogged("file changed")
			}
		}
	}
}

func (l *List) reloadLogged(why string) {
	if err := l.Reload(); err != nil {
		l.log.Error().Err(err).Str("why", why).Msg("block list not reloaded; the previous one stays in force")
		return
	}
	l.log.Info().Str("why", why).Float64("entries", float64(l.set.Load().size())).Msg("block list reloaded")
}

// Empty reports whether nothing is blocked (callers skip finding the address).
func (l *List) Empty() bool { return l == nil || l.set.Load().size() == 0 }

// IP reports whether ip is blocked, and counts it when it is.
func (l *List) IP(ip net.IP) bool {
	if l == nil || ip == nil {
		return false
	}
	e := l.set.Load()
	if e.size() == 0 {
		return false
	}
	hit := false
	if _, ok := e.ips[ip.String()]; ok {
		hit = true
	} else {
		for _, n := range e.nets {
			if n.Contains(ip) {
				hit = true
				break
			}
		}
	}
	if hit {
		l.blocked.WithLabelValues("ip").Inc()
	}
	return hit
}

// Visitor reports whether the visitor id is blocked, and counts it when it is.
func (l *List) Visitor(id string) bool {
	if l == nil || id == "" {
		return false
	}
	if _, ok := l.set.Load().visitors[id]; ok {
		l.blocked.WithLabelValues("visitor").Inc()
		return true
	}
	return false
}

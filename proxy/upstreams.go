package proxy

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// upstream is one of the customer's backends and what the checks know of it.
type upstream struct {
	url  *url.URL
	fast *fasthttp.HostClient // the fasthttp engine's client

	mu        sync.Mutex
	fails     int       // consecutive failures (connections refused, checks failed)
	downUntil time.Time // out of rotation until then (passive)
	activeOK  bool      // the last active check passed (true when there are none)
}

func (u *upstream) healthy(now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.activeOK && !now.Before(u.downUntil)
}

// pool picks upstreams round robin among the healthy ones.
type pool struct {
	ups       []*upstream
	next      atomic.Uint64
	threshold int
	cooldown  time.Duration
	onChange  func(u *upstream, healthy bool)
}

func newPool(urls []*url.URL, threshold int, cooldown time.Duration, onChange func(*upstream, bool)) *pool {
	p := &pool{threshold: threshold, cooldown: cooldown, onChange: onChange}
	for _, u := range urls {
		p.ups = append(p.ups, &upstream{url: u, activeOK: true})
	}
	return p
}

// pick returns the next of the healthy upstreams not in skip, in turn, or,
// when none is healthy, the next one anyway: a request is better tried
// than refused while every check is failing.
func (p *pool) pick(skip []*upstream) *upstream {
	now := time.Now()
	var healthy [16]*upstream
	ok := healthy[:0]
	var rest []*upstream
	for _, u := range p.ups {
		switch {
		case contains(skip, u):
		case u.healthy(now):
			ok = append(ok, u)
		default:
			rest = append(rest, u)
		}
	}
	turn := p.next.Add(1)
	if len(ok) > 0 {
		return ok[turn%uint64(len(ok))]
	}
	if len(rest) > 0 {
		return rest[turn%uint64(len(rest))]
	}
	return nil
}

func contains(list []*upstream, u *upstream) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

// failed records a connection failure (passive check): after threshold
// of them in a row the upstream leaves rotation for the cooldown.
func (p *pool) failed(u *upstream) {
	u.mu.Lock()
	u.fails++
	down := u.fails >= p.threshold && !time.Now().Before(u.downUntil)
	if down {
		u.downUntil = time.Now().Add(p.cooldown)
	}
	u.mu.Unlock()
	if down && p.onChange != nil {
		p.onChange(u, false)
	}
}

// succeeded records an answer from u.
func (p *pool) succeeded(u *upstream) {
	u.mu.Lock()
	wasDown := u.fails >= p.threshold
	u.fails = 0
	u.downUntil = time.Time{}
	u.mu.Unlock()
	if wasDown && p.onChange != nil {
		p.onChange(u, true)
	}
}

// check runs active health checks every interval until ctx ends: GET path
// on each upstream, a 2xx or 3xx within timeout is healthy; threshold
// failures in a row take it out of rotation until a check passes again.
func (p *pool) check(ctx context.Context, client *http.Client, path string, interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for _, u := range p.ups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok := probe(ctx, client, u.url.JoinPath(path).String(), timeout)
				u.mu.Lock()
				was := u.activeOK
				switch {
				case ok:
					u.activeOK, u.fails = true, 0
				default:
					u.fails++
					if u.fails >= p.threshold {
						u.activeOK = false
					}
				}
				now := u.activeOK
				u.mu.Unlock()
				if was != now && p.onChange != nil {
					p.onChange(u, now)
				}
			}()
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func probe(ctx context.Context, client *http.Client, target string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "spoor-health-check")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

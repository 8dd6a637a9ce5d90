package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// loader drives a steady, open-loop load of known events through the
// collectors, the way a load balancer would: round robin over the
// collectors whose /readyz says ready, and a request whose connection was
// refused (nothing was sent) goes to the next one. Every event carries a
// unique tag ("ftag" in props), so the reconciliation can find it whether
// its id was chosen by the client (half the requests, as the browser SDK
// does) or by the collector.
type loader struct {
	app        string
	collectors []string
	rate       float64 // events per second
	visitors   int

	client *http.Client
	ready  []atomic.Bool
	next   atomic.Uint64
	seq    atomic.Int64

	mu      sync.Mutex
	status  map[int64]int // tag -> HTTP status (0: no answer)
	codes   map[int]int   // status -> requests
	reasons map[string]int
	sent    int64
	okAt    []time.Time     // answer time of each 2xx event (for the ingest rate)
	took    []time.Duration // each answered request's time from sending to its answer
	noRetry int             // 503 answers without Retry-After
}

func newLoader(app string, collectors []string, rate float64, visitors int) *loader {
	l := &loader{app: app, collectors: collectors, rate: rate, visitors: visitors,
		ready: make([]atomic.Bool, len(collectors)), status: map[int64]int{}, codes: map[int]int{}, reasons: map[string]int{},
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second,
			DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		}}}
	for i := range l.ready {
		l.ready[i].Store(true)
	}
	return l
}

// health polls every collector's /readyz, as a load balancer's health check.
func (l *loader) health(ctx context.Context) {
	hc := &http.Client{Timeout: time.Second}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		for i, c := range l.collectors {
			res, err := hc.Get(c + "/readyz")
			ok := err == nil && res.StatusCode == 200
			if err == nil {
				res.Body.Close()
			}
			l.ready[i].Store(ok)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// run sends until ctx ends: each request one visitor's single event or
// batch of 2-10, half of them with client event ids.
func (l *loader) run(ctx context.Context, workers int) {
	hctx, stopHealth := context.WithCancel(context.Background())
	go l.health(hctx)
	defer stopHealth()
	jobs := make(chan []byte, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range jobs {
				l.send(body)
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	start := time.Now()
	var due float64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-t.C:
		}
		target := l.rate * time.Since(start).Seconds()
		for due < target {
			n := 1
			if rng.IntN(10) < 3 {
				n = 2 + rng.IntN(9)
			}
			body := l.request(rng, n)
			due += float64(n)
			select {
			case jobs <- body:
			default: // every worker busy: the collectors are slower than the rate; wait (open loop falls behind)
				jobs <- body
			}
		}
	}
	close(jobs)
	wg.Wait()
}

// request builds one request body of n events of one visitor and registers their tags.
func (l *loader) request(rng *rand.Rand, n int) []byte {
	vid := fmt.Sprintf("fv-%03d", rng.IntN(l.visitors))
	withIDs := rng.IntN(2) == 0
	var b bytes.Buffer
	if n > 1 {
		b.WriteByte('[')
	}
	for i := range n {
		tag := l.seq.Add(1)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ename":"fault_load","app":%q,"vid":%q,"ftag":"%d"`, l.app, vid, tag)
		if withIDs {
			fmt.Fprintf(&b, `,"eid":%q`, uuid.NewString())
		}
		b.WriteByte('}')
	}
	if n > 1 {
		b.WriteByte(']')
	}
	return b.Bytes()
}

// send posts body to a ready collector, moving on to the next one when a
// connection is refused, and records the answer for every tag in it.
func (l *loader) send(body []byte) {
	tags := tagsOf(body)
	code, reason := 0, "refused by every collector"
	var took time.Duration
	for attempt := 0; attempt < 2*len(l.collectors)+2; attempt++ {
		i := l.pick()
		start := time.Now()
		res, err := l.client.Post(l.collectors[i]+"/tr/v1/", "application/json", bytes.NewReader(body))
		if err != nil {
			if refused(err) { // nothing reached the collector: a balancer retries elsewhere
				l.ready[i].Store(false)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			reason = shortErr(err)
			break
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		took = time.Since(start)
		code, reason = res.StatusCode, ""
		if code == 503 && res.Header.Get("Retry-After") == "" {
			l.mu.Lock()
			l.noRetry++
			l.mu.Unlock()
		}
		if code/100 != 2 {
			reason = fmt.Sprintf("%d %s", code, strings.TrimSpace(string(b)))
		}
		break
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent += int64(len(tags))
	l.codes[code]++
	if code != 0 {
		l.took = append(l.took, took)
	}
	if reason != "" {
		l.reasons[reason]++
	}
	for _, t := range tags {
		l.status[t] = code
		if code/100 == 2 {
			l.okAt = append(l.okAt, now)
		}
	}
}

// pick is the next ready collector in round robin (any, if none is ready).
func (l *loader) pick() int {
	for range len(l.collectors) {
		i := int(l.next.Add(1) % uint64(len(l.collectors)))
		if l.ready[i].Load() {
			return i
		}
	}
	return int(l.next.Add(1) % uint64(len(l.collectors)))
}

func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return "no answer: " + s
}

// tagsOf reads the tags back out of a request body.
func tagsOf(body []byte) []int64 {
	var out []int64
	for rest := body; ; {
		i := bytes.Index(rest, []byte(`"ftag":"`))
		if i < 0 {
			return out
		}
		rest = rest[i+8:]
		j := bytes.IndexByte(rest, '"')
		var n int64
		fmt.Sscan(string(rest[:j]), &n)
		out = append(out, n)
	}
}

// answerTimes returns the answered requests' times, sorted.
func (l *loader) answerTimes() []time.Duration {
	l.mu.Lock()
	t := append([]time.Duration(nil), l.took...)
	l.mu.Unlock()
	slices.Sort(t)
	return t
}

// quantile is the q-quantile of sorted d (0 when empty).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// outcome returns a copy of the outcome per tag, and the counts.
func (l *loader) outcome() (status map[int64]int, codes map[int]int, reasons map[string]int, sent int64, okAt []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	status = make(map[int64]int, len(l.status))
	for k, v := range l.status {
		status[k] = v
	}
	codes = map[int]int{}
	for k, v := range l.codes {
		codes[k] = v
	}
	reasons = map[string]int{}
	for k, v := range l.reasons {
		reasons[k] = v
	}
	return status, codes, reasons, l.sent, append([]time.Time(nil), l.okAt...)
}

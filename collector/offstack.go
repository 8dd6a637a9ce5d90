package collector

import (
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Idle keep-alive connections are cheap only if their goroutines are.
// fasthttp serves each connection on one goroutine for the connection's
// whole life, and a goroutine's stack never shrinks below what its deepest
// call needed: the tracking path (parse, build, hash, encode, publish) grows
// it to 8 KiB, so 10,000 idle browsers held 80 MiB of stacks alone. The
// handler therefore runs on a small set of reused goroutines (stackPool):
// connection goroutines keep the shallow stack fasthttp itself needs
// (4 KiB), and only as many deep stacks exist as requests are in flight.
// With fasthttp's ReduceMemoryUsage (read and write buffers returned while
// a connection idles) an idle connection costs about 6 KiB instead of 25.

// handlerIdle is how long an unused handler goroutine waits before exiting.
const handlerIdle = 10 * time.Second

// reapTick is how often idle handler goroutines are looked for. (Memory
// is handed back to the OS after a burst by app's memlimit.Trimmer, which
// watches the whole process, the sink and the replayer too.)
const reapTick = 2 * time.Second

// stackPool runs requests on reusable goroutines.
type stackPool struct {
	h    fasthttp.RequestHandler
	mu   sync.Mutex
	idle []*pooledG // LIFO: the most recently used is warm
	stop chan struct{}
	done bool // stop was seen: returning goroutines exit

}

type pooledG struct {
	reqs     chan *fasthttp.RequestCtx
	done     chan struct{}
	lastUsed time.Time
}

func newStackPool(h fasthttp.RequestHandler, stop chan struct{}) *stackPool {
	p := &stackPool{h: h, stop: stop}
	go p.reap()
	return p
}

// serve runs the handler for ctx on a handler goroutine and returns when
// it is done; it is the fasthttp.Server's Handler.
func (p *stackPool) serve(ctx *fasthttp.RequestCtx) {
	g := p.get()
	g.reqs <- ctx
	<-g.done
	p.put(g)
}

func (p *stackPool) get() *pooledG {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		g := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return g
	}
	p.mu.Unlock()
	g := &pooledG{reqs: make(chan *fasthttp.RequestCtx), done: make(chan struct{})}
	go g.run(p.h)
	return g
}

func (p *stackPool) put(g *pooledG) {
	g.lastUsed = time.Now()
	p.mu.Lock()
	if p.done {
		close(g.reqs)
	} else {
		p.idle = append(p.idle, g)
	}
	p.mu.Unlock()
}

func (g *pooledG) run(h fasthttp.RequestHandler) {
	for ctx := range g.reqs {
		h(ctx)
		g.done <- struct{}{}
	}
}

// reap stops handler goroutines unused for handlerIdle (the oldest are at
// the front), and all of them when stop closes.
func (p *stackPool) reap() {
	t := time.NewTicker(reapTick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			p.mu.Lock()
			for _, g := range p.idle {
				close(g.reqs)
			}
			p.idle, p.done = nil, true
			p.mu.Unlock()
			return
		case now := <-t.C:
			p.mu.Lock()
			n := 0
			for n < len(p.idle) && now.Sub(p.idle[n].lastUsed) > handlerIdle {
				close(p.idle[n].reqs)
				n++
			}
			p.idle = append(p.idle[:0], p.idle[n:]...)
			p.mu.Unlock()
		}
	}
}

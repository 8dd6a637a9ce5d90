// Package collector is spoor's HTTP front door (valyala/fasthttp). It turns
// every accepted wire format into schema.Events, makes them durable on
// JetStream or the disk spool, and only then answers. It never waits on a
// store.
package collector

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/blocklist"
	"github.com/spoor-dev/spoor/internal/bots"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/internal/forwarded"
	"github.com/spoor-dev/spoor/internal/ratelimit"
	"github.com/spoor-dev/spoor/internal/reply"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/plan"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/segment"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Options is what the collector needs from the configuration.
type Options struct {
	HTTP config.HTTP
	// Ack: AckReplicated or AckLocal (collector.ack; decision 0006).
	Ack        string
	AckTimeout time.Duration
	// MaxInflightBytes is the budget of request bodies being turned into
	// events and made durable at once (inflight.go); a request waits up
	// to AckTimeout for room, then gets 503.
	MaxInflightBytes int64
	MaxBatchEvents   int
	MaxEventBytes    int
	HashKey          []byte
	// Redirects: where /rdr/v1/ may go (allow-list, signed links).
	Redirects     links.Policy
	RedirectTo    string // fallback target for a refused redirect
	ServerTokens  []string
	RetryAfterSec int
	Partitions    int // bus partitions: events go to the one of their visitor
	// Blocked: addresses and visitors whose events are refused (403 on the
	// JSON endpoints; the pixel and the redirect answer as usual). nil: none.
	Blocked *blocklist.List
	// Enrichment: bots, mail-proxy opens, GeoIP, what is kept of the address.
	Enrichment Enrichment
	// Links: short links and their admin API.
	Links LinkOptions
	// Segment: the Segment-compatible API's write keys (segment/ decodes).
	Segment segment.Keys
	// Plans: the apps' tracking plans (plan/), checked on every event of
	// an app that has one. nil: none.
	Plans *plan.Plans
	// Admin: the operator surface served under /admin (app/ mounts
	// admin.Admin); nil: /admin answers 404.
	Admin Mount
}

// Mount is a surface the collector serves on its port beside its own
// endpoints, for another audience: app/ mounts the operator surface
// (admin/) at /admin. It never takes events in.
type Mount interface {
	// Serve answers one request whose path is /admin or below it.
	Serve(ctx *fasthttp.RequestCtx)
	// Close ends the surface's long-lived answers (live streams); the
	// collector calls it once, when it stops serving.
	Close()
}

// Collector serves the tracking endpoints.
type Collector struct {
	cfg      Options
	pub      Publisher
	spool    Spool
	log      zerolog.Logger
	m        *Metrics
	pm       planMetrics
	metrics  fasthttp.RequestHandler
	proxies  forwarded.Trust
	cors     map[string]bool
	corsAny  bool
	stopping atomic.Bool
	srv      *fasthttp.Server
	limiter  *ratelimit.PerIP // nil: no per-IP limit
	done     chan struct{}
	groups   *grouper
	ips      *ipHashes
	builders sync.Pool // *schema.Builder
	bots     *bots.Detector
	en       Enrichment
	dropBots map[string]bool
	seen     *firstSeen // the unique flag of clicks and opens
	budget   *inflight  // collector.max_inflight_bytes

	cookieAttrs, cookieAttrsSecure string // of the vid cookie (cookie.go)
}

// New builds a collector. reg receives the collector metrics; gather is
// what /metrics exposes (the process's whole registry).
func New(cfg Options, pub Publisher, sp Spool, reg prometheus.Registerer, gather prometheus.Gatherer, log zerolog.Logger) (*Collector, error) {
	c := &Collector{done: make(chan struct{}), cfg: cfg, pub: pub, spool: sp, log: log, m: NewMetrics(reg), pm: newPlanMetrics(reg), cors: map[string]bool{}, groups: newGrouper(groupsInFlight, cfg.Partitions),
		ips: newIPHashes(cfg.HashKey), en: cfg.Enrichment, dropBots: map[string]bool{}, seen: newFirstSeen(cfg.Links.UniqueWindow),
		budget: newInflight(cfg.MaxInflightBytes, cfg.AckTimeout)}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spoor_collector_inflight_bytes",
		Help: "Request body bytes being turned into events and made durable now (collector.max_inflight_bytes)."},
		func() float64 { return float64(c.budget.used.Load()) }))
	c.cookieAttrs, c.cookieAttrsSecure = visitorCookieAttrs(cfg.HTTP, cfg.HTTP.VIDCookieMaxAge, false), visitorCookieAttrs(cfg.HTTP, cfg.HTTP.VIDCookieMaxAge, true)
	if c.en.IPHandling == "" {
		c.en.IPHandling = IPHash
	}
	for _, e := range c.en.DropBots {
		c.dropBots[e] = true
	}
	var err error
	if c.bots, err = bots.Shared(); err != nil {
		return nil, err
	}
	if skipDurability {
		log.Error().Msg("built with bench_nodurable: events are answered and dropped, for benchmarks only")
	}
	if c.proxies, err = forwarded.Parse(cfg.HTTP.TrustedProxies); err != nil {
		return nil, err
	}
	for _, o := range cfg.HTTP.CORSOrigins {
		if o == "*" {
			c.corsAny = true
		}
		c.cors[strings.TrimSuffix(o, "/")] = true
	}
	if cfg.HTTP.RateLimitPerIP > 0 {
		c.limiter = ratelimit.NewPerIP(cfg.HTTP.RateLimitPerIP, cfg.HTTP.RateBurstPerIP)
		go c.limiter.SweepEvery(time.Minute, c.done)
	}
	c.metrics = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(gather, promhttp.HandlerOpts{}))
	c.srv = &fasthttp.Server{
		Handler:               newStackPool(c.handle, c.done).serve,
		ErrorHandler:          c.transportError,
		Name:                  "spoor",
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		ReadTimeout:           cfg.HTTP.ReadTimeout,
		WriteTimeout:          cfg.HTTP.WriteTimeout,
		IdleTimeout:           cfg.HTTP.IdleTimeout,
		ReadBufferSize:        cfg.HTTP.MaxHeaderBytes,
		MaxRequestBodySize:    cfg.HTTP.MaxBodyBytes,
		Concurrency:           cfg.HTTP.MaxConns,
		ReduceMemoryUsage:     true,
		// No new body is read while the budget is spent: the client waits
		// in its socket's buffers, not in the collector's memory.
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			if h.ContentLength() != 0 {
				c.budget.room()
			}
			return fasthttp.RequestConfig{}
		},
		Logger: fasthttpLogger{log},
	}
	return c, nil
}

// Serve answers on ln until Shutdown. Connections close lingering
// (linger.go), so an early refusal reaches a client still sending.
func (c *Collector) Serve(ln net.Listener) error { return c.srv.Serve(newLingerListener(ln)) }

// Shutdown stops accepting, lets in-flight requests finish (each waits for
// its own PubAck or spool fsync) and returns. With http.shutdown_delay it
// first goes on serving that long while /readyz answers 503 and every
// answer carries "Connection: close", so a load balancer takes the
// collector out of rotation and keep-alive clients reconnect elsewhere
// before the listener closes: no request of theirs meets a closed socket.
func (c *Collector) Shutdown() error {
	c.stopping.Store(true)
	if d := c.cfg.HTTP.ShutdownDelay; d > 0 {
		c.log.Info().Dur("delay", d).Msg("draining: not ready, closing keep-alive connections")
		time.Sleep(d)
	}
	close(c.done)
	if c.cfg.Admin != nil {
		c.cfg.Admin.Close()
	}
	return c.srv.Shutdown()
}

// blockedIP reports whether the client's address is on the block list.
func (c *Collector) blockedIP(ctx *fasthttp.RequestCtx) bool {
	return !c.cfg.Blocked.Empty() && c.cfg.Blocked.IP(net.ParseIP(c.clientIP(ctx)))
}

// limited reports whether the client is over its rate (http.rate_limit_per_ip).
func (c *Collector) limited(ctx *fasthttp.RequestCtx) bool {
	return c.limiter != nil && !c.limiter.Allow(c.clientIP(ctx), time.Now())
}

// builder returns an empty Builder; hand it back with release once its
// Event is encoded.
func (c *Collector) builder() *schema.Builder {
	if b, ok := c.builders.Get().(*schema.Builder); ok {
		return b
	}
	return schema.NewBuilder(schema.Limits{}, c.cfg.HashKey)
}

func (c *Collector) release(b *schema.Builder) {
	b.Reset()
	c.builders.Put(b)
}

func (c *Collector) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	endpoint := "other"
	defer func() {
		if c.stopping.Load() {
			ctx.SetConnectionClose()
		}
		if r := recover(); r != nil {
			c.m.Panics.Inc()
			c.log.Error().Interface("panic", r).Str("path", string(ctx.Path())).Msg("handler panic")
			ctx.ResetBody()
			reply.Error(ctx, fasthttp.StatusInternalServerError, "internal", "internal error")
		}
		c.m.Requests.WithLabelValues(endpoint, statusLabel(ctx.Response.StatusCode())).Inc()
		c.m.Latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	}()
	path := string(ctx.Request.URI().PathOriginal())
	switch {
	case hasPrefix(path, "/tr/v1"):
		endpoint = "tr"
		c.clientEvents(ctx, endpoint, strings.TrimPrefix(path, "/tr/v1"))
	case hasPrefix(path, "/str/v1"):
		endpoint = "str"
		c.serverSide(ctx, strings.TrimPrefix(path, "/str/v1"))
	case hasPrefix(path, "/img/v1"):
		endpoint = "img"
		c.pixel(ctx, strings.TrimPrefix(path, "/img/v1"))
	case hasPrefix(path, "/rdr/v1"):
		endpoint = "rdr"
		c.redirect(ctx, strings.TrimPrefix(path, "/rdr/v1"))
	case hasPrefix(path, "/sdk"):
		endpoint = "sdk"
		c.sdkFiles(ctx, strings.TrimPrefix(path, "/sdk"))
	case path == "/ping":
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("pong")
	case path == "/healthz":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
	case path == "/readyz":
		c.ready(ctx)
	case path == "/metrics":
		endpoint = "metrics"
		c.metrics(ctx)
	case strings.HasPrefix(path, "/v1/"):
		endpoint = "segment"
		c.segment(ctx, strings.TrimPrefix(path, "/v1/"))
	case hasPrefix(path, "/admin"):
		endpoint = "admin"
		c.admin(ctx, path)
	case c.cfg.Links.Cache != nil && hasPrefix(path, c.cfg.Links.Prefix):
		endpoint = "link"
		c.shortLink(ctx, strings.TrimPrefix(path, c.cfg.Links.Prefix+"/"))
	case c.linkHost(ctx):
		endpoint = "link"
		c.shortLink(ctx, strings.TrimPrefix(path, "/"))
	default:
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such endpoint: "+path)
	}
}

// admin serves /admin and below: the mounted operator surface.
func (c *Collector) admin(ctx *fasthttp.RequestCtx, path string) {
	if c.cfg.Admin == nil {
		reply.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such endpoint: "+path)
		return
	}
	c.cfg.Admin.Serve(ctx)
}

func hasPrefix(path, p string) bool {
	return path == p || strings.HasPrefix(path, p+"/")
}

func statusLabel(code int) string {
	switch code {
	case 200, 201, 204, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 409, 410, 413, 415, 429, 431, 500, 503:
		return fmt.Sprint(code)
	}
	return fmt.Sprintf("%dxx", code/100)
}

// ready: not ready while shutting down, or when NATS is unreachable and
// the spool cannot take more.
func (c *Collector) ready(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	natsUp, full := c.pub.Connected(), c.spool.Full()
	switch {
	case c.stopping.Load():
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"ready":false,"reason":"shutting down"}`)
	case !natsUp && full:
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(`{"ready":false,"reason":"nats unreachable and spool full"}`)
	default:
		fmt.Fprintf(ctx, `{"ready":true,"nats":%t,"spool_full":%t}`, natsUp, full)
	}
}

// transportError answers requests fasthttp could not read: oversized
// bodies or headers, timeouts, garbage.
func (c *Collector) transportError(ctx *fasthttp.RequestCtx, err error) {
	switch e := err.(type) {
	case *fasthttp.ErrSmallBuffer:
		c.m.Rejected.WithLabelValues("headers_too_large").Inc()
		reply.Error(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "headers_too_large",
			fmt.Sprintf("request line and headers exceed %d bytes", c.cfg.HTTP.MaxHeaderBytes))
	case *net.OpError:
		if e.Timeout() {
			reply.Error(ctx, fasthttp.StatusRequestTimeout, "timeout", "request not received in time")
			return
		}
		reply.Error(ctx, fasthttp.StatusBadRequest, "bad_request", "could not read request")
	default:
		if err == fasthttp.ErrBodyTooLarge {
			c.m.Rejected.WithLabelValues("body_too_large").Inc()
			reply.Error(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("request body exceeds %d bytes", c.cfg.HTTP.MaxBodyBytes))
			return
		}
		c.m.Rejected.WithLabelValues("bad_request").Inc()
		reply.Error(ctx, fasthttp.StatusBadRequest, "bad_request", "could not parse request: "+err.Error())
	}
}

// fasthttpLogger sends fasthttp's connection-level messages (client
// resets, oversized requests already answered) to debug.
type fasthttpLogger struct{ log zerolog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug().Msgf(format, args...)
}

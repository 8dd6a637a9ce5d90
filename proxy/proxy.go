// Package proxy is spoor's tracking reverse proxy: it passes requests to a
// customer's backends and records each one as a server-side event, without
// ever delaying or failing a request for the tracking's sake.
//
// It is net/http's httputil.ReverseProxy (decision 0003): bodies stream
// both ways with flat memory, WebSocket upgrades pass through, responses of
// unknown length and text/event-stream are flushed at once, and the server
// speaks HTTP/2 to clients over TLS.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/blocklist"
	"github.com/spoor-dev/spoor/internal/forwarded"
	"github.com/spoor-dev/spoor/internal/ratelimit"
	"github.com/spoor-dev/spoor/schema"
	"github.com/valyala/fasthttp"
)

// Options configure a Proxy (config.Proxy, parsed).
type Options struct {
	Upstreams             []*url.URL
	TrustedProxies        forwarded.Trust // peers whose X-Forwarded-* headers are believed
	Via                   string          // pseudonym for the Via header; empty: none
	HealthPath            string          // active checks; empty: passive only
	HealthInterval        time.Duration
	HealthTimeout         time.Duration
	FailThreshold         int
	FailCooldown          time.Duration
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	TrackInclude          []string
	TrackExclude          []string
	EventName             string
	App                   string
	QueueSize             int
	QueueBytes            int             // the queue's bound in bytes (schema.Hit.Size); 0: DefaultQueueBytes
	FirstPartyPrefix      string          // empty: off
	Collector             *url.URL        // where first-party requests go; nil: off
	Blocked               *blocklist.List // clients passed on but never tracked; nil: none
	RateLimitPerIP        float64         // requests per second per client; 0: none (http.rate_limit_per_ip)
	RateBurstPerIP        int
	VisitorCookie         *VisitorCookie // set the first-party vid cookie on tracked pages; nil: never
	BodyTimeout           time.Duration  // the longest pause inside a body, either way; 0: none
	MinBodyRate           int64          // bytes per second a request body must average after 10 s; 0: none
}

// VisitorCookie is how the first-party visitor cookie "vid" is set
// (http.vid_cookie_*).
type VisitorCookie struct {
	Domain   string
	MaxAge   time.Duration
	HTTPOnly bool
}

// Proxy is an http.Handler.
type Proxy struct {
	o       Options
	rp      *httputil.ReverseProxy
	fp      *httputil.ReverseProxy // first party, to the collector
	fpFast  *fasthttp.HostClient   // the same for the fasthttp engine
	pool    *pool
	filter  filter
	q       *queue
	m       *metrics
	log     zerolog.Logger
	checker *http.Client
	limiter *ratelimit.PerIP // nil: no limit
	via     [2]string        // the Via values for HTTP/1.0 and HTTP/1.1
}

// tracks: the request becomes an event.
func (st *state) tracks() bool { return st.tracked && !st.blocked }

type ctxKey int

const stateKey ctxKey = 0

// state is one request's passage: the upstreams tried, the client's address.
type state struct {
	tracked   bool   // the path is tracked (proxy.track_include/exclude)
	blocked   bool   // the client or visitor is on the block list
	vid       string // the visitor: the request's vid cookie, or a new id
	setCookie bool   // set (or refresh) the vid cookie on the answer
	https     bool   // the client reached the front over HTTPS
	up        *upstream
	status    int // the upstream's answer (a 101 never passes through the ResponseWriter)
	tried     []*upstream
	client    string
	peer      net.IP
}

// New builds the proxy; Run starts its checks and its event queue.
func New(o Options, t Tracker, reg prometheus.Registerer, log zerolog.Logger) (*Proxy, error) {
	if len(o.Upstreams) == 0 {
		return nil, errNoUpstream
	}
	f, err := newFilter(o.TrackInclude, o.TrackExclude)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	p := &Proxy{o: o, filter: f, m: m, log: log}
	if o.Via != "" {
		p.via = [2]string{"1.0 " + o.Via, "1.1 " + o.Via}
	}
	p.pool = newPool(o.Upstreams, o.FailThreshold, o.FailCooldown, func(u *upstream, healthy bool) {
		p.m.healthy.WithLabelValues(u.url.Host).Set(b2f(healthy))
		log.Warn().Str("upstream", u.url.Host).Bool("healthy", healthy).Msg("upstream health changed")
	})
	for _, u := range p.pool.ups {
		m.healthy.WithLabelValues(u.url.Host).Set(1)
		u.fast = p.fastClient(u)
	}
	p.q = newQueue(o.QueueSize, o.QueueBytes, 4, t, m, log)
	if o.RateLimitPerIP > 0 {
		p.limiter = ratelimit.NewPerIP(o.RateLimitPerIP, o.RateBurstPerIP)
	}
	tr := &http.Transport{
		Proxy:                 nil, // never an environment proxy between us and the backend
		DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
	p.checker = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      tr,
		FlushInterval:  0, // unknown length and text/event-stream flush at once; others buffer per write
		ErrorHandler:   p.upstreamError,
		ModifyResponse: p.upstreamAnswered,
		ErrorLog:       nil,
	}
	if o.Collector != nil && o.FirstPartyPrefix != "" {
		p.fp = &httputil.ReverseProxy{Rewrite: p.rewriteFirstParty, Transport: tr, ErrorHandler: p.collectorError}
		p.fpFast = p.fastClient(&upstream{url: o.Collector})
	}
	return p, nil
}

// Run checks the upstreams and publishes the queued events until ctx ends,
// then publishes what is still queued for up to drain.
func (p *Proxy) Run(ctx context.Context, drain time.Duration) {
	if p.o.HealthPath != "" {
		go p.pool.check(ctx, p.checker, p.o.HealthPath, p.o.HealthInterval, p.o.HealthTimeout)
	}
	if p.limiter != nil {
		go p.limiter.SweepEvery(time.Minute, ctx.Done())
	}
	p.q.run(ctx, drain)
}

// ServeHTTP passes the request on and tracks it once the response is done.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := &state{}
	st.client, st.peer = p.clientIP(r)
	if p.limiter != nil && !p.limiter.Allow(st.client, start) {
		p.m.requests.WithLabelValues("rate_limited").Inc()
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintln(w, `{"error":"too many requests from this address","reason":"rate_limited"}`)
		return
	}
	if p.fp != nil && firstParty(r.URL.Path, p.o.FirstPartyPrefix) {
		p.m.requests.WithLabelValues("first_party").Inc()
		p.fp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey, st)))
		return
	}
	rec := &recorder{ResponseWriter: w, timeout: p.o.BodyTimeout}
	var in *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		in = &countingBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: p.o.BodyTimeout,
			minRate: p.o.MinBodyRate, start: start}
		r.Body = in
	}
	st.vid = visitorOf(r)
	p.decide(st, r.URL.Path, r.TLS != nil, r.Header.Get("X-Forwarded-Proto") == "https")
	st.up = p.pool.pick(nil)
	p.rp.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), stateKey, st)))
	if rec.status == 0 { // an upgrade: the 101 went to the hijacked connection
		rec.status = st.status
	}
	var v view
	var bytesIn int64
	if st.tracks() {
		v = viewOf(r)
	}
	if in != nil {
		bytesIn = in.n
	}
	p.record(st, v, rec.status, bytesIn, rec.bytes, start)
}

// decide settles what the request means for tracking, on either engine:
// tracked or excluded by its path, blocked by its client or visitor, and
// whether the answer sets the visitor cookie (Secure when the client
// reached the front over HTTPS: tls here, or xfHTTPS from a trusted proxy).
func (p *Proxy) decide(st *state, path string, tls, xfHTTPS bool) {
	st.tracked = p.filter.tracked(path)
	st.blocked = st.tracked && (p.o.Blocked.IP(net.ParseIP(st.client)) || p.o.Blocked.Visitor(st.vid))
	if st.tracks() && p.o.VisitorCookie != nil {
		if st.vid == "" {
			st.vid = schema.NewEventID()
		}
		st.setCookie = true
		st.https = tls || (p.o.TrustedProxies.Contains(st.peer) && xfHTTPS)
	}
}

// record counts a passed request and, when it tracks, queues its event
// (v describes it; unused otherwise).
func (p *Proxy) record(st *state, v view, status int, bytesIn, bytesOut int64, start time.Time) {
	p.m.answered(status)
	p.m.latency.Observe(time.Since(start).Seconds())
	switch {
	case !st.tracked:
		p.m.excluded.Inc()
	case st.blocked:
		p.m.blocked.Inc()
	default:
		p.q.enqueue(p.hitOf(v, status, bytesIn, bytesOut, st, start))
	}
}

// rewrite points the outgoing request at the chosen upstream and sets the
// forwarded headers. ReverseProxy has already removed the hop-by-hop
// headers and every inbound X-Forwarded-*: they are put back only when
// the peer is a trusted proxy, otherwise they describe this hop alone.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(stateKey).(*state)
	pr.SetURL(st.up.url)
	pr.Out.Host = pr.In.Host // the backend sees the site's own host name
	p.forwarded(pr, st)
}

func (p *Proxy) forwarded(pr *httputil.ProxyRequest, st *state) {
	if p.o.TrustedProxies.Contains(st.peer) {
		for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"} {
			if v := pr.In.Header.Values(h); len(v) > 0 {
				pr.Out.Header[h] = v
			}
		}
	}
	proto, host := pr.Out.Header.Get("X-Forwarded-Proto"), pr.Out.Header.Get("X-Forwarded-Host")
	pr.SetXForwarded() // appends the peer to X-Forwarded-For, sets -Host and -Proto of this hop
	if proto != "" {
		pr.Out.Header.Set("X-Forwarded-Proto", proto)
	}
	if host != "" {
		pr.Out.Header.Set("X-Forwarded-Host", host)
	}
	if p.o.Via != "" {
		pr.Out.Header.Add("Via", via(pr.In.ProtoMajor, pr.In.ProtoMinor, p.o.Via))
	}
}

// privateAnswer: a response a shared cache may keep (public, s-maxage)
// must not carry one visitor's cookie to the next.
func privateAnswer(cacheControl []string) bool {
	cc := strings.ToLower(strings.Join(cacheControl, ","))
	return !strings.Contains(cc, "public") && !strings.Contains(cc, "s-maxage")
}

func via(major, minor int, name string) string {
	if major == 2 || major == 3 {
		return fmt.Sprintf("%d %s", major, name)
	}
	return fmt.Sprintf("%d.%d %s", major, minor, name)
}

func (p *Proxy) upstreamAnswered(resp *http.Response) error {
	st := resp.Request.Context().Value(stateKey).(*state)
	st.status = resp.StatusCode
	p.pool.succeeded(st.up)
	if st.setCookie && privateAnswer(resp.Header.Values("Cache-Control")) {
		c := p.o.VisitorCookie
		ck := &http.Cookie{Name: "vid", Value: st.vid, Path: "/", Domain: c.Domain, MaxAge: int(c.MaxAge / time.Second),
			HttpOnly: c.HTTPOnly, Secure: st.https, SameSite: http.SameSiteLaxMode}
		resp.Header.Add("Set-Cookie", ck.String())
	}
	if p.o.Via != "" {
		resp.Header.Add("Via", via(resp.ProtoMajor, resp.ProtoMinor, p.o.Via))
	}
	return nil
}

// upstreamError: a connection the upstream refused or never accepted
// counts against it (passive check) and, when nothing of the request was
// sent yet (no body), is retried once on each other upstream. Otherwise
// the client gets 502, or 504 when the upstream was too slow.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	st := r.Context().Value(stateKey).(*state)
	dial := isDialError(err)
	if dial {
		p.pool.failed(st.up)
	}
	st.tried = append(st.tried, st.up)
	if dial && (r.Body == nil || r.Body == http.NoBody) && r.Context().Err() == nil && len(st.tried) < len(p.pool.ups) {
		if next := p.pool.pick(st.tried); next != nil && !contains(st.tried, next) {
			p.m.retries.Inc()
			st.up = next
			p.rp.ServeHTTP(w, r)
			return
		}
	}
	code := http.StatusBadGateway
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		code = http.StatusGatewayTimeout
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		code = 499 // the client went away; nobody reads this answer
	}
	p.log.Warn().Err(err).Str("upstream", st.up.url.Host).Str("path", r.URL.Path).Int("status", code).Msg("upstream failed")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":"upstream_unavailable","status":%d}`+"\n", code)
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// clientIP is the client's address (internal/forwarded) and the peer's.
func (p *Proxy) clientIP(r *http.Request) (string, net.IP) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer := net.ParseIP(host)
	if peer == nil {
		return host, nil
	}
	return p.o.TrustedProxies.Client(peer, strings.Join(r.Header.Values("X-Forwarded-For"), ",")).String(), peer
}

func statusClass(code int) string {
	if code == 0 {
		return "none"
	}
	return fmt.Sprintf("%dxx", code/100)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

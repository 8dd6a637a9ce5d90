package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"github.com/spoor-dev/spoor/schema"
	"io"
	"iter"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// The fasthttp engine (decision 0003): the same proxy as ServeHTTP for
// plain-HTTP/1.1 listeners, on fasthttp at both ends, because net/http
// adds milliseconds to the tail that fasthttp does not. Bodies stream
// both ways (the server's StreamRequestBody, the clients'
// StreamResponseBody), answers of unknown length go out chunked with a
// flush per read (server-sent events arrive at once), and an upgrade is
// a hijacked pipe. What it shares with the net/http engine: the upstream
// pool and its checks, the forwarded-header rules, the block list, the
// rate limit, the visitor cookie and the tracking queue.

// ServerLimits are a listener's limits (proxy.read_header_timeout,
// proxy.idle_timeout, http.max_header_bytes).
type ServerLimits struct {
	ReadHeaderTimeout time.Duration // the request line and headers, and the first 8 KiB of a body
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

// FastServer serves the proxy with fasthttp. Its Serve and
// ShutdownWithContext run it; bodies have no overall deadline
// (proxy.body_timeout bounds the pauses inside them).
func (p *Proxy) FastServer(l ServerLimits) *fasthttp.Server {
	rb := 4096
	if l.MaxHeaderBytes > rb {
		rb = l.MaxHeaderBytes
	}
	return &fasthttp.Server{
		Handler:                       p.ServeFast,
		Name:                          "",
		ReadTimeout:                   l.ReadHeaderTimeout,
		IdleTimeout:                   l.IdleTimeout,
		ReadBufferSize:                rb, // a request line and headers must fit: larger ones get 431
		StreamRequestBody:             true,
		DisablePreParseMultipartForm:  true, // an upload passes as bytes, never parsed or spooled
		NoDefaultServerHeader:         true,
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: false,
		CloseOnShutdown:               true,
		Logger:                        quiet{},
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// fastClient is the upstream's fasthttp client: no overall read or write
// deadline (bodies stream for as long as they move), the response header
// awaited at most ResponseHeaderTimeout (upConn), paths passed as sent.
func (p *Proxy) fastClient(u *upstream) *fasthttp.HostClient {
	host, tlsOn := u.url.Host, u.url.Scheme == "https"
	if _, _, err := net.SplitHostPort(host); err != nil {
		if tlsOn {
			host += ":443"
		} else {
			host += ":80"
		}
	}
	c := &fasthttp.HostClient{
		Addr:                     host,
		IsTLS:                    tlsOn,
		MaxConns:                 4096,
		MaxIdleConnDuration:      90 * time.Second,
		StreamResponseBody:       true,
		DisablePathNormalizing:   true,
		NoDefaultUserAgentHeader: true,
		Dial:                     p.dialUpstream,
		RetryIfErr: func(req *fasthttp.Request, attempts int, err error) (bool, bool) {
			// A kept-alive connection the upstream closed before answering
			// is retried once on a new one, for the requests net/http
			// replays too; never a POST, nor one that timed out.
			return false, attempts < 2 && replayable(req) && !isDialError(err) && !fastTimeout(err)
		},
	}
	if tlsOn {
		c.TLSConfig = &tls.Config{ServerName: u.url.Hostname(), MinVersion: tls.VersionTLS12}
	}
	return c
}

func (p *Proxy) dialUpstream(addr string) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: p.o.DialTimeout, KeepAlive: 30 * time.Second}).Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &upConn{Conn: c, wait: p.o.ResponseHeaderTimeout}, nil
}

// upConn is an upstream connection that allows the upstream at most wait
// from the end of a request to the first byte of its answer; once the
// answer starts, its body may take as long as it streams.
type upConn struct {
	net.Conn
	wait    time.Duration
	waiting atomic.Bool // a request went out; its answer has not begun
}

func (c *upConn) Write(b []byte) (int, error) {
	if c.wait > 0 {
		c.waiting.Store(true)
	}
	return c.Conn.Write(b)
}

func (c *upConn) Read(b []byte) (int, error) {
	if !c.waiting.Swap(false) {
		return c.Conn.Read(b)
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.wait))
	n, err := c.Conn.Read(b)
	_ = c.Conn.SetReadDeadline(time.Time{})
	return n, err
}

// ServeFast is the proxy as a fasthttp handler.
func (p *Proxy) ServeFast(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	st := &state{}
	st.client, st.peer = p.fastClientIP(ctx)
	if p.limiter != nil && !p.limiter.Allow(st.client, start) {
		p.m.requests.WithLabelValues("rate_limited").Inc()
		ctx.Response.Header.Set("Retry-After", "1")
		fastJSON(ctx, http.StatusTooManyRequests, `{"error":"too many requests from this address","reason":"rate_limited"}`)
		return
	}
	path := string(ctx.Path())
	if p.fp != nil && firstParty(path, p.o.FirstPartyPrefix) {
		p.m.requests.WithLabelValues("first_party").Inc()
		p.fastFirstParty(ctx, st)
		return
	}
	st.vid = string(ctx.Request.Header.Cookie("vid"))
	p.decide(st, path, ctx.IsTLS(), string(ctx.Request.Header.Peek("X-Forwarded-Proto")) == "https")
	x := &exchange{p: p, st: st, start: start}
	if st.tracks() { // copied now: fasthttp reuses the request's buffers
		x.view = fastView(ctx, path)
	}
	if isUpgrade(&ctx.Request.Header) {
		p.fastUpgrade(ctx, x)
		return
	}
	out := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(out)
	p.fastOutgoing(ctx, out, st, false)
	switch cl := ctx.Request.Header.ContentLength(); {
	case cl > 0 && cl <= prefetched:
		// fasthttp read a body this small with the headers: pass the bytes.
		out.SetBodyRaw(ctx.Request.Body())
		x.in = &fastBody{n: int64(cl), eof: true}
	case cl > 0 || cl == -1:
		x.in = &fastBody{r: ctx.RequestBodyStream(), conn: ctx.Conn(), timeout: p.o.BodyTimeout, minRate: p.o.MinBodyRate, start: start}
		out.SetBodyStream(x.in, cl)
	}
	resp := fasthttp.AcquireResponse()
	st.up = p.pool.pick(nil)
	for {
		if st.up.url.Path != "" && st.up.url.Path != "/" {
			out.SetRequestURI(strings.TrimSuffix(st.up.url.Path, "/") + string(ctx.Request.Header.RequestURI()))
		}
		err := st.up.fast.Do(out, resp)
		if err == nil {
			break
		}
		if x.in != nil && x.in.err != nil { // the client's body failed, not the upstream
			fasthttp.ReleaseResponse(resp)
			ctx.SetConnectionClose()
			x.finish(ctx, http.StatusRequestTimeout, `{"error":"request_body_too_slow","status":408}`)
			return
		}
		dial := isDialError(err)
		if dial {
			p.pool.failed(st.up)
		}
		st.tried = append(st.tried, st.up)
		if dial && x.in == nil && len(st.tried) < len(p.pool.ups) {
			if next := p.pool.pick(st.tried); next != nil && !contains(st.tried, next) {
				p.m.retries.Inc()
				st.up = next
				continue
			}
		}
		fasthttp.ReleaseResponse(resp)
		code := http.StatusBadGateway
		if fastTimeout(err) {
			code = http.StatusGatewayTimeout
		}
		p.log.Warn().Err(err).Str("upstream", st.up.url.Host).Str("path", path).Int("status", code).Msg("upstream failed")
		if x.in != nil {
			ctx.SetConnectionClose() // what is left of the body is not read
		}
		x.finish(ctx, code, `{"error":"upstream_unavailable","status":`+strconv.Itoa(code)+`}`)
		return
	}
	p.pool.succeeded(st.up)
	if x.in != nil && !x.in.eof {
		ctx.SetConnectionClose() // the upstream answered before reading the whole body
	}
	x.answer(ctx, resp)
}

// prefetched is how much of a body of known length fasthttp's server reads
// with the headers when it streams request bodies (readBodyWithStreaming).
const prefetched = 8 << 10

// exchange is one request's passage through the fasthttp engine; done
// records it once the answer's body has gone to the client.
type exchange struct {
	p      *Proxy
	st     *state
	view   view // only when the request tracks
	start  time.Time
	in     *fastBody
	inN    int64 // bytes in when there is no body reader (an upgrade's)
	status int
	out    int64
	once   sync.Once
}

// answer passes the upstream's response on: its headers now, its body
// streamed when fasthttp writes the response (resp is released then).
func (x *exchange) answer(ctx *fasthttp.RequestCtx, resp *fasthttp.Response) {
	p, st := x.p, x.st
	x.status = resp.StatusCode()
	h := &ctx.Response.Header
	resp.Header.CopyTo(h)
	h.SetNoDefaultContentType(true)
	stripHopResponse(h)
	if st.setCookie && privateAnswer(peekAll(&resp.Header, "Cache-Control")) {
		c := p.o.VisitorCookie
		ck := &http.Cookie{Name: "vid", Value: st.vid, Path: "/", Domain: c.Domain, MaxAge: int(c.MaxAge / time.Second),
			HttpOnly: c.HTTPOnly, Secure: st.https, SameSite: http.SameSiteLaxMode}
		h.Add("Set-Cookie", ck.String())
	}
	if p.o.Via != "" {
		h.Add("Via", p.via[b2i(resp.Header.IsHTTP11())])
	}
	bs := resp.BodyStream()
	if bs == nil || ctx.IsHead() { // no body, or one already read (an upgrade refused)
		cl := resp.Header.ContentLength()
		if ctx.IsHead() {
			ctx.Response.SkipBody = true
			if cl >= 0 {
				h.SetContentLength(cl)
			}
		} else {
			ctx.Response.SetBody(resp.Body())
			x.out = int64(len(resp.Body()))
		}
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		x.done()
		return
	}
	a := &fastAnswer{x: x, resp: resp, r: bs, conn: ctx.Conn(), timeout: p.o.BodyTimeout}
	cl := resp.Header.ContentLength()
	if cl < 0 && !ctx.Request.Header.IsHTTP11() {
		unchunked(ctx, a)
		return
	}
	if cl < 0 {
		cl = -1 // chunked to the client, a chunk (and a flush) per read
	}
	ctx.Response.SetBodyStream(a, cl)
}

// unchunked sends an answer of unknown length to an HTTP/1.0 client, which
// knows no chunks: the body as it comes, its end the connection's close.
// fasthttp would chunk it, so the connection is taken over.
func unchunked(ctx *fasthttp.RequestCtx, a *fastAnswer) {
	h := &ctx.Response.Header
	head := append([]byte("HTTP/1.0 "), strconv.Itoa(h.StatusCode())...)
	head = append(append(append(head, ' '), fasthttp.StatusMessage(h.StatusCode())...), "\r\n"...)
	for k, v := range h.All() {
		switch strings.ToLower(string(k)) {
		case "transfer-encoding", "content-length", "connection":
			continue
		}
		head = append(append(append(append(head, k...), ": "...), v...), "\r\n"...)
	}
	head = append(head, "Connection: close\r\n\r\n"...)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer a.Close()
		if _, err := c.Write(head); err != nil {
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := a.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
}

// finish answers with an error of the proxy's own.
func (x *exchange) finish(ctx *fasthttp.RequestCtx, code int, body string) {
	x.status = code
	fastJSON(ctx, code, body)
	x.out = int64(len(body) + 1)
	x.done()
}

func (x *exchange) inBytes(n int64) { x.inN += n }

// done records the request, once.
func (x *exchange) done() {
	x.once.Do(func() {
		in := x.inN
		if x.in != nil {
			in = x.in.n
		}
		x.p.record(x.st, x.view, x.status, in, x.out, x.start)
	})
}

// fastAnswer is the upstream's body on its way to the client. fasthttp
// reads it as it writes the response and closes it at the end, or when
// the client is gone: then the upstream connection is released (or
// closed, if the body was not read to its end) and the request tracked.
type fastAnswer struct {
	x       *exchange
	resp    *fasthttp.Response
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
}

func (a *fastAnswer) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	a.x.out += int64(n)
	if a.timeout > 0 && n > 0 { // the client must take each piece within the timeout
		_ = a.conn.SetWriteDeadline(time.Now().Add(a.timeout))
	}
	return n, err
}

func (a *fastAnswer) Close() error {
	if a.timeout > 0 {
		_ = a.conn.SetWriteDeadline(time.Time{})
	}
	err := a.resp.CloseBodyStream()
	fasthttp.ReleaseResponse(a.resp)
	a.x.done()
	return err
}

// fastBody is the client's request body on its way to the upstream: it
// counts the bytes and cuts off a client that trickles, as countingBody
// does for net/http.
type fastBody struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
	minRate int64
	start   time.Time
	n       int64
	eof     bool
	err     error // the client's failure (too slow, gone), not the upstream's
}

func (c *fastBody) Read(b []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	} else if c.n == 0 {
		_ = c.conn.SetReadDeadline(time.Time{}) // the header timeout does not cover the body
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	switch {
	case err == io.EOF:
		c.eof = true
		if c.timeout > 0 {
			_ = c.conn.SetReadDeadline(time.Time{})
		}
	case err != nil:
		c.err = err
	case c.minRate > 0:
		if el := time.Since(c.start); el > rateGrace && float64(c.n) < float64(c.minRate)*el.Seconds() {
			c.err = errTooSlow
			return n, errTooSlow
		}
	}
	return n, err
}

// hopByHop are the headers that belong to one connection (RFC 9110
// §7.6.1), never passed on.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// fastOutgoing builds the upstream request from the client's: the same
// method, URI, Host and headers, without the hop-by-hop ones (those
// named in Connection included) unless upgrade, and with the forwarded
// headers as ServeHTTP sets them.
func (p *Proxy) fastOutgoing(ctx *fasthttp.RequestCtx, out *fasthttp.Request, st *state, upgrade bool) {
	in := &ctx.Request.Header
	in.CopyTo(&out.Header)
	out.Header.SetProtocol("HTTP/1.1") // whatever the client spoke, as net/http's ReverseProxy does
	out.Header.ResetConnectionClose()
	if !upgrade {
		if namesHeaders(in.Peek("Connection")) {
			for _, v := range peekAll(in, "Connection") {
				for _, name := range strings.Split(v, ",") {
					if name = strings.TrimSpace(name); name != "" {
						out.Header.Del(name)
					}
				}
			}
		}
		for _, h := range hopByHop {
			out.Header.Del(h)
		}
	}
	out.Header.Del("Expect") // fasthttp answered 100-continue itself
	out.Header.Del("Forwarded")
	trusted := p.o.TrustedProxies.Contains(st.peer)
	var xff, proto, host string
	if trusted {
		xff = strings.Join(peekAll(in, "X-Forwarded-For"), ", ")
		proto, host = string(in.Peek("X-Forwarded-Proto")), string(in.Peek("X-Forwarded-Host"))
	}
	for _, h := range forwardedHeaders {
		out.Header.Del(h)
	}
	peer := ""
	if st.peer != nil {
		peer = st.peer.String()
	}
	if !trusted || xff == "" {
		xff = peer
	} else {
		xff += ", " + peer
	}
	if !trusted || proto == "" {
		proto = "http"
		if ctx.IsTLS() {
			proto = "https"
		}
	}
	if !trusted || host == "" {
		host = string(in.Host())
	}
	out.Header.Set("X-Forwarded-For", xff)
	out.Header.Set("X-Forwarded-Host", host)
	out.Header.Set("X-Forwarded-Proto", proto)
	if p.o.Via != "" {
		out.Header.Add("Via", p.via[b2i(in.IsHTTP11())])
	}
}

var forwardedHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"}

// namesHeaders: a Connection header that may name headers (anything but
// the usual keep-alive or close).
func namesHeaders(v []byte) bool {
	return len(v) > 0 && !bytes.EqualFold(v, []byte("keep-alive")) && !bytes.EqualFold(v, []byte("close"))
}

// stripHopResponse removes the hop-by-hop headers from an answer; fasthttp
// sets its own Connection, Content-Length and Transfer-Encoding.
func stripHopResponse(h *fasthttp.ResponseHeader) {
	if !namesHeaders(h.Peek("Connection")) {
		h.ResetConnectionClose()
		for _, n := range hopByHop {
			h.Del(n)
		}
		return
	}
	for _, v := range peekAll(h, "Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" && !strings.EqualFold(name, "close") {
				h.Del(name)
			}
		}
	}
	h.ResetConnectionClose()
	for _, n := range hopByHop {
		h.Del(n)
	}
}

type peeker interface {
	All() iter.Seq2[[]byte, []byte]
}

// peekAll is every value of the header name, in order.
func peekAll(h peeker, name string) []string {
	var out []string
	for k, v := range h.All() {
		if bytes.EqualFold(k, []byte(name)) {
			out = append(out, string(v))
		}
	}
	return out
}

func isUpgrade(h *fasthttp.RequestHeader) bool {
	if len(h.Peek("Upgrade")) == 0 {
		return false
	}
	for _, v := range peekAll(h, "Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

func (p *Proxy) fastClientIP(ctx *fasthttp.RequestCtx) (string, net.IP) {
	peer := ctx.RemoteIP()
	if peer == nil || peer.IsUnspecified() {
		return ctx.RemoteAddr().String(), nil
	}
	if !p.o.TrustedProxies.Contains(peer) { // its X-Forwarded-For is not read at all
		return peer.String(), peer
	}
	return p.o.TrustedProxies.Client(peer, strings.Join(peekAll(&ctx.Request.Header, "X-Forwarded-For"), ",")).String(), peer
}

func fastView(ctx *fasthttp.RequestCtx, path string) view {
	scheme := "http"
	if ctx.IsTLS() {
		scheme = "https"
	}
	h := &ctx.Request.Header
	return view{scheme: scheme, host: string(h.Host()), uri: string(h.RequestURI()), method: string(h.Method()), path: path,
		referer: string(h.Referer()), userAgent: string(h.UserAgent()),
		purpose: string(h.Peek("Sec-Purpose")) + string(h.Peek("Purpose")), acceptLanguage: string(h.Peek("Accept-Language")),
		canary: schema.IsCanary(h.Peek(schema.CanaryHeader))}
}

func fastJSON(ctx *fasthttp.RequestCtx, code int, body string) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(code)
	ctx.SetBodyString(body + "\n")
}

// replayable is net/http's rule for sending a request again: a method
// without side effects, or an idempotency key, and no streamed body.
func replayable(req *fasthttp.Request) bool {
	if req.IsBodyStream() {
		return false
	}
	h := &req.Header
	return h.IsGet() || h.IsHead() || h.IsOptions() || h.IsTrace() ||
		len(h.Peek("Idempotency-Key")) > 0 || len(h.Peek("X-Idempotency-Key")) > 0
}

// fastTimeout: fasthttp reports an expired deadline as its own ErrTimeout.
func fastTimeout(err error) bool { return isTimeout(err) || errors.Is(err, fasthttp.ErrTimeout) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

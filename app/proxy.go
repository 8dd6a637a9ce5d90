package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/internal/forwarded"
	"github.com/spoor-dev/spoor/proxy"
	"github.com/valyala/fasthttp"
)

// proxyRole is the tracking reverse proxy on proxy.addr, publishing its
// events through this process's collector (its group commit and spool).
type proxyRole struct {
	srvs   []server     // the proxy, and with HTTPS the plain-HTTP redirector
	ln     net.Listener // where the proxy itself answers
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ProxyOptions is the proxy configuration of cfg; collectorAddr is this
// process's own collector, used for first-party requests when
// proxy.collector_url is empty.
func ProxyOptions(cfg config.Config, collectorAddr string) (proxy.Options, error) {
	p := cfg.Proxy
	o := proxy.Options{Via: p.Via, HealthPath: p.HealthPath, HealthInterval: p.HealthInterval, HealthTimeout: p.HealthTimeout,
		FailThreshold: p.FailThreshold, FailCooldown: p.FailCooldown, DialTimeout: p.DialTimeout,
		ResponseHeaderTimeout: p.ResponseHeaderTimeout, TrackInclude: p.TrackInclude, TrackExclude: p.TrackExclude,
		EventName: p.EventName, App: p.App, QueueSize: p.QueueSize, QueueBytes: p.QueueBytes, FirstPartyPrefix: p.FirstPartyPrefix,
		RateLimitPerIP: cfg.HTTP.RateLimitPerIP, RateBurstPerIP: cfg.HTTP.RateBurstPerIP, BodyTimeout: p.BodyTimeout, MinBodyRate: p.MinBodyRate}
	if h := cfg.HTTP; h.VIDCookie {
		o.VisitorCookie = &proxy.VisitorCookie{Domain: h.VIDCookieDomain, MaxAge: h.VIDCookieMaxAge, HTTPOnly: h.VIDCookieHTTPOnly}
	}
	for _, u := range p.Upstreams {
		pu, err := url.Parse(u)
		if err != nil {
			return o, fmt.Errorf("parsing proxy.upstreams %q: %w", u, err)
		}
		o.Upstreams = append(o.Upstreams, pu)
	}
	var err error
	if o.TrustedProxies, err = forwarded.Parse(cfg.HTTP.TrustedProxies); err != nil {
		return o, err
	}
	target := p.CollectorURL
	if target == "" && collectorAddr != "" {
		target = "http://" + collectorAddr
	}
	if target != "" && p.FirstPartyPrefix != "" {
		u, err := url.Parse(target)
		if err != nil {
			return o, fmt.Errorf("parsing proxy.collector_url %q: %w", target, err)
		}
		o.Collector = u
	}
	return o, nil
}

// startProxy starts the proxy; withCollector says this process serves the
// collector on http.addr (first-party requests go there unless
// proxy.collector_url says otherwise).
func (a *App) startProxy(withCollector bool) error {
	own := ""
	if withCollector {
		own = a.Addr()
	}
	o, err := ProxyOptions(a.cfg, own)
	if err != nil {
		return err
	}
	o.Blocked = a.block
	px, err := proxy.New(o, a.coll, a.Reg, a.log.With().Str("role", "proxy").Logger())
	if err != nil {
		return fmt.Errorf("building the proxy: %w", err)
	}
	r := &proxyRole{}
	a.proxy = r // stopProxy closes whatever started, even on an error below
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		px.Run(ctx, 5*time.Second)
	}()
	p := a.cfg.Proxy
	t := proxy.TLS{CertFile: p.TLSCertFile, KeyFile: p.TLSKeyFile, ACMEHosts: p.ACMEHosts, ACMEDirectory: p.ACMEDirectory,
		ACMEEmail: p.ACMEEmail, ACMECAFile: p.ACMECAFile, ACMECacheDir: p.ACMECacheDir}
	// No ReadTimeout or WriteTimeout: bodies of any size stream both ways
	// (proxy.body_timeout bounds the pauses inside them).
	main := &http.Server{Handler: px, ReadHeaderTimeout: p.ReadHeaderTimeout, IdleTimeout: p.IdleTimeout,
		MaxHeaderBytes: a.cfg.HTTP.MaxHeaderBytes}
	if !t.Enabled() {
		var srv server = main
		if p.Engine == "fasthttp" {
			srv = fastServer{px.FastServer(proxy.ServerLimits{ReadHeaderTimeout: p.ReadHeaderTimeout, IdleTimeout: p.IdleTimeout,
				MaxHeaderBytes: a.cfg.HTTP.MaxHeaderBytes})}
		}
		if r.ln, err = a.serveProxy(srv, p.Addr, nil); err != nil {
			return err
		}
		a.log.Info().Str("addr", r.ln.Addr().String()).Str("engine", p.Engine).Strs("upstreams", p.Upstreams).Msg("proxy listening")
		return nil
	}
	_, port, _ := net.SplitHostPort(p.TLSAddr)
	t.HTTPSPort = port
	tlsCfg, plain, err := t.Setup()
	if err != nil {
		return err
	}
	main.TLSConfig = tlsCfg
	if r.ln, err = a.serveProxy(main, p.TLSAddr, tlsCfg); err != nil {
		return err
	}
	redirector := &http.Server{Handler: plain, ReadHeaderTimeout: p.ReadHeaderTimeout, IdleTimeout: p.IdleTimeout}
	if _, err = a.serveProxy(redirector, p.Addr, nil); err != nil {
		return err
	}
	a.log.Info().Str("https", r.ln.Addr().String()).Str("http", p.Addr).Strs("upstreams", p.Upstreams).
		Bool("acme", len(p.ACMEHosts) > 0).Msg("proxy listening")
	return nil
}

// server is a listener's HTTP server, net/http's or fasthttp's.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// fastServer is fasthttp's server as a server.
type fastServer struct{ *fasthttp.Server }

func (f fastServer) Shutdown(ctx context.Context) error { return f.Server.ShutdownWithContext(ctx) }

// Close stops listening and closes the idle connections without waiting
// for those still busy (net/http's Close cuts them; here the process's
// end does).
func (f fastServer) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Server.ShutdownWithContext(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// serveProxy serves srv on addr, over TLS when tlsCfg is set (net/http only).
func (a *App) serveProxy(srv server, addr string, tlsCfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	r := a.proxy
	r.srvs = append(r.srvs, srv)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		var err error
		if tlsCfg != nil {
			err = srv.(*http.Server).ServeTLS(ln, "", "") // certificates come from TLSConfig; HTTP/2 is offered
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Str("addr", addr).Msg("proxy server stopped")
		}
	}()
	return ln, nil
}

// stopProxy lets requests in flight finish (30 s at most), then publishes
// the events still queued.
func (a *App) stopProxy() {
	r := a.proxy
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	for _, srv := range r.srvs {
		if err := srv.Shutdown(ctx); err != nil {
			a.log.Warn().Err(err).Msg("proxy shutdown")
			_ = srv.Close()
		}
	}
	cancel()
	r.cancel()
	r.wg.Wait()
	a.proxy = nil
}

// ProxyAddr is where the proxy listens ("" without the proxy role).
func (a *App) ProxyAddr() string {
	if a.proxy == nil || a.proxy.ln == nil {
		return ""
	}
	return a.proxy.ln.Addr().String()
}

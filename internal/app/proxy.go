package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/proxy"
)

// proxyRole is the tracking reverse proxy on proxy.addr, publishing its
// events through this process's collector (its group commit and spool).
type proxyRole struct {
	srv    *http.Server
	ln     net.Listener
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
		EventName: p.EventName, App: p.App, QueueSize: p.QueueSize, FirstPartyPrefix: p.FirstPartyPrefix,
		RateLimitPerIP: cfg.HTTP.RateLimitPerIP, RateBurstPerIP: cfg.HTTP.RateBurstPerIP}
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
	for _, t := range cfg.HTTP.TrustedProxies {
		_, n, err := net.ParseCIDR(t)
		if err != nil {
			ip := net.ParseIP(t)
			if ip == nil {
				return o, fmt.Errorf("parsing http.trusted_proxies %q: %w", t, err)
			}
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(len(ip)*8, len(ip)*8)}
		}
		o.TrustedProxies = append(o.TrustedProxies, n)
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

func (a *App) startProxy() error {
	o, err := ProxyOptions(a.cfg, a.Addr())
	if err != nil {
		return err
	}
	if a.Addr() == "" { // `spoor proxy` alone: first party needs proxy.collector_url
		o.Collector = nil
		if a.cfg.Proxy.CollectorURL != "" {
			o.Collector, _ = url.Parse(a.cfg.Proxy.CollectorURL)
		}
	}
	o.Blocked = a.block
	px, err := proxy.New(o, a.coll, a.Reg, a.log.With().Str("role", "proxy").Logger())
	if err != nil {
		return fmt.Errorf("building the proxy: %w", err)
	}
	r := &proxyRole{}
	if r.ln, err = net.Listen("tcp", a.cfg.Proxy.Addr); err != nil {
		return fmt.Errorf("listening on %s: %w", a.cfg.Proxy.Addr, err)
	}
	// No ReadTimeout or WriteTimeout: bodies of any size stream both ways.
	r.srv = &http.Server{Handler: px, ReadHeaderTimeout: a.cfg.Proxy.ReadHeaderTimeout, IdleTimeout: a.cfg.Proxy.IdleTimeout,
		MaxHeaderBytes: a.cfg.HTTP.MaxHeaderBytes}
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		px.Run(ctx, 5*time.Second)
	}()
	go func() {
		defer r.wg.Done()
		if err := r.srv.Serve(r.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Msg("proxy server stopped")
		}
	}()
	a.proxy = r
	a.log.Info().Str("addr", r.ln.Addr().String()).Strs("upstreams", a.cfg.Proxy.Upstreams).Msg("proxy listening")
	return nil
}

// stopProxy lets requests in flight finish (30 s at most), then publishes
// the events still queued.
func (a *App) stopProxy() {
	r := a.proxy
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := r.srv.Shutdown(ctx); err != nil {
		a.log.Warn().Err(err).Msg("proxy shutdown")
		_ = r.srv.Close()
	}
	cancel()
	r.cancel()
	r.wg.Wait()
	a.proxy = nil
}

// ProxyAddr is where the proxy listens ("" without the proxy role).
func (a *App) ProxyAddr() string {
	if a.proxy == nil {
		return ""
	}
	return a.proxy.ln.Addr().String()
}

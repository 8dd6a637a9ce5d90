package config

import (
	"net/url"
	"time"
)

// Canary is `spoor canary` (docs/quality.md#the-canary): marked events
// sent through every entry point at an interval, each found again in the
// store and at each destination.
type Canary struct {
	// Enabled runs the canary inside `spoor run` (the `spoor canary` role
	// always runs it).
	Enabled bool `mapstructure:"enabled"`
	// Interval between rounds; each round sends one event per entry point.
	Interval time.Duration `mapstructure:"interval"`
	// Timeout: an event not found in the store (or at a destination) this
	// long after it was sent counts as lost there.
	Timeout time.Duration `mapstructure:"timeout"`
	// App is the canary events' app (the Segment entry point's is its
	// write key's, the proxy's proxy.app).
	App string `mapstructure:"app"`
	// CollectorURL is where it sends; empty: http.addr.
	CollectorURL string `mapstructure:"collector_url"`
	// ProxyURL is the proxy it sends a page view through (ProxyPath);
	// empty: proxy.addr when proxy.enabled, else no proxy entry point.
	ProxyURL  string `mapstructure:"proxy_url"`
	ProxyPath string `mapstructure:"proxy_path"`
	// LinkSlug is the short link the canary creates (to its own app) and
	// clicks.
	LinkSlug string `mapstructure:"link_slug"`
}

func (c *Config) validateCanary(bad func(key, format string, a ...any)) {
	k := c.Canary
	if k.Interval < time.Second {
		bad("canary.interval", "must be at least 1s, got %v", k.Interval)
	}
	if k.Timeout < 5*time.Second {
		bad("canary.timeout", "must be at least 5s, got %v", k.Timeout)
	}
	if k.App == "" {
		bad("canary.app", "must not be empty")
	}
	for key, v := range map[string]string{"canary.collector_url": k.CollectorURL, "canary.proxy_url": k.ProxyURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			bad(key, "must be an http(s) URL such as http://127.0.0.1:8080, got %q", v)
		}
	}
	if k.ProxyPath == "" || k.ProxyPath[0] != '/' {
		bad("canary.proxy_path", "must be a path starting with /, got %q", k.ProxyPath)
	}
	if k.LinkSlug == "" {
		bad("canary.link_slug", "must not be empty")
	}
}

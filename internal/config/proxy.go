package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Proxy is the tracking reverse proxy (proxy/): `spoor proxy`, or inside
// `spoor run` when enabled.
type Proxy struct {
	Enabled               bool          `mapstructure:"enabled"`
	Addr                  string        `mapstructure:"addr"`
	Engine                string        `mapstructure:"engine"`
	Upstreams             []string      `mapstructure:"upstreams"`
	Via                   string        `mapstructure:"via"`
	HealthPath            string        `mapstructure:"health_path"`
	HealthInterval        time.Duration `mapstructure:"health_interval"`
	HealthTimeout         time.Duration `mapstructure:"health_timeout"`
	FailThreshold         int           `mapstructure:"fail_threshold"`
	FailCooldown          time.Duration `mapstructure:"fail_cooldown"`
	DialTimeout           time.Duration `mapstructure:"dial_timeout"`
	ResponseHeaderTimeout time.Duration `mapstructure:"response_header_timeout"`
	ReadHeaderTimeout     time.Duration `mapstructure:"read_header_timeout"`
	IdleTimeout           time.Duration `mapstructure:"idle_timeout"`
	BodyTimeout           time.Duration `mapstructure:"body_timeout"`
	MinBodyRate           int64         `mapstructure:"min_body_rate"`
	TrackInclude          []string      `mapstructure:"track_include"`
	TrackExclude          []string      `mapstructure:"track_exclude"`
	EventName             string        `mapstructure:"event_name"`
	App                   string        `mapstructure:"app"`
	QueueSize             int           `mapstructure:"queue_size"`
	QueueBytes            int           `mapstructure:"queue_bytes"`
	FirstPartyPrefix      string        `mapstructure:"first_party_prefix"`
	CollectorURL          string        `mapstructure:"collector_url"`
	TLSAddr               string        `mapstructure:"tls_addr"`
	TLSCertFile           string        `mapstructure:"tls_cert_file"`
	TLSKeyFile            string        `mapstructure:"tls_key_file"`
	ACMEHosts             []string      `mapstructure:"acme_hosts"`
	ACMEDirectory         string        `mapstructure:"acme_directory"`
	ACMEEmail             string        `mapstructure:"acme_email"`
	ACMECAFile            string        `mapstructure:"acme_ca_file"`
	ACMECacheDir          string        `mapstructure:"acme_cache_dir"`
}

// StaticAssets is proxy.track_exclude's default: requests for these are
// passed on but not tracked.
const StaticAssets = `(?i)\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|eot|mp4|webm)$`

// blockedPrefixes are paths that ad blockers' lists match on any domain:
// a first-party prefix under them would be blocked like a third party.
var blockedPrefixes = []string{"/analytics", "/tracking", "/track", "/telemetry", "/collect", "/pixel", "/stats", "/metrics"}

func (c *Config) validateProxy(bad func(key, format string, a ...any)) {
	p := c.Proxy
	if p.Enabled && len(p.Upstreams) == 0 {
		bad("proxy.upstreams", "the proxy needs at least one upstream URL")
	}
	for _, u := range p.Upstreams {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			bad("proxy.upstreams", "%q must be an http:// or https:// URL with a host", u)
		}
	}
	if p.Addr == "" {
		bad("proxy.addr", "must not be empty")
	}
	if p.Engine != "fasthttp" && p.Engine != "net/http" {
		bad("proxy.engine", "must be fasthttp or net/http, got %q", p.Engine)
	}
	for key, d := range map[string]time.Duration{"proxy.health_interval": p.HealthInterval, "proxy.health_timeout": p.HealthTimeout,
		"proxy.fail_cooldown": p.FailCooldown, "proxy.dial_timeout": p.DialTimeout, "proxy.response_header_timeout": p.ResponseHeaderTimeout,
		"proxy.read_header_timeout": p.ReadHeaderTimeout, "proxy.idle_timeout": p.IdleTimeout, "proxy.body_timeout": p.BodyTimeout} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %v", d)
		}
	}
	if p.HealthPath != "" && !strings.HasPrefix(p.HealthPath, "/") {
		bad("proxy.health_path", "must start with / (or be empty: no active checks), got %q", p.HealthPath)
	}
	if p.MinBodyRate < 0 {
		bad("proxy.min_body_rate", "must be >= 0 (0: no minimum), got %d", p.MinBodyRate)
	}
	if p.QueueBytes < 64<<10 {
		bad("proxy.queue_bytes", "must be at least 64 KiB (65536), got %d", p.QueueBytes)
	}
	if p.FailThreshold <= 0 || p.QueueSize <= 0 {
		bad("proxy.fail_threshold", "proxy.fail_threshold and proxy.queue_size must be positive")
	}
	for key, list := range map[string][]string{"proxy.track_include": p.TrackInclude, "proxy.track_exclude": p.TrackExclude} {
		for _, re := range list {
			if _, err := regexp.Compile(re); err != nil {
				bad(key, "%q is not a regular expression: %v", re, err)
			}
		}
	}
	if p.EventName == "" {
		bad("proxy.event_name", "must not be empty")
	}
	if fp := p.FirstPartyPrefix; fp != "" {
		if !strings.HasPrefix(fp, "/") || strings.HasSuffix(fp, "/") {
			bad("proxy.first_party_prefix", "must start with / and not end with one (or be empty: off), got %q", fp)
		}
		for _, b := range blockedPrefixes {
			if strings.EqualFold(fp, b) || strings.HasPrefix(strings.ToLower(fp), b+"/") {
				bad("proxy.first_party_prefix", "%q is on ad blockers' lists; choose a neutral path", fp)
			}
		}
	}
	files, acme := p.TLSCertFile != "" || p.TLSKeyFile != "", len(p.ACMEHosts) > 0
	switch {
	case files && acme:
		bad("proxy.tls_cert_file", "certificate files and proxy.acme_hosts exclude each other")
	case (p.TLSCertFile == "") != (p.TLSKeyFile == ""):
		bad("proxy.tls_cert_file", "proxy.tls_cert_file and proxy.tls_key_file go together")
	case (files || acme) && p.TLSAddr == "":
		bad("proxy.tls_addr", "HTTPS is configured: set the address it listens on (e.g. :443)")
	case p.TLSAddr != "" && !files && !acme:
		bad("proxy.tls_addr", "needs certificate files (proxy.tls_cert_file) or proxy.acme_hosts")
	}
	for _, h := range p.ACMEHosts {
		if !strings.Contains(strings.Trim(h, "."), ".") || strings.ContainsAny(h, " /:*") {
			bad("proxy.acme_hosts", "%q must be a full host name (no wildcards: http-01 cannot prove them)", h)
		}
	}
	if acme {
		if u, err := url.Parse(p.ACMEDirectory); err != nil || u.Scheme != "https" {
			bad("proxy.acme_directory", "must be the https:// URL of an ACME directory, got %q", p.ACMEDirectory)
		}
	}
	if p.CollectorURL != "" {
		if u, err := url.Parse(p.CollectorURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("proxy.collector_url", "%q must be an http:// or https:// URL", p.CollectorURL)
		}
	}
}

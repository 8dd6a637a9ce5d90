package config

import (
	"net/url"
	"strings"
	"time"
)

// Links are signed redirects and short links (links/, docs/links.md).
type Links struct {
	SigningKeys  []string      `mapstructure:"signing_keys"`
	AppendFields []string      `mapstructure:"append_fields"`
	BaseURL      string        `mapstructure:"base_url"`
	Prefix       string        `mapstructure:"prefix"`
	Hosts        []string      `mapstructure:"hosts"`
	Store        string        `mapstructure:"store"`
	AdminTokens  []string      `mapstructure:"admin_tokens"` // deprecated: admin.tokens (Config.Deprecated)
	SlugLength   int           `mapstructure:"slug_length"`
	CacheSize    int           `mapstructure:"cache_size"`
	CacheTTL     time.Duration `mapstructure:"cache_ttl"`
	UniqueWindow time.Duration `mapstructure:"unique_window"`
}

// reservedPrefixes are the collector's own paths: a short-link prefix may
// not shadow them.
var reservedPrefixes = []string{"/tr", "/str", "/img", "/rdr", "/sdk", "/admin", "/v1", "/ping", "/healthz", "/readyz", "/metrics"}

func (c *Config) validateLinks(bad func(key, format string, a ...any)) {
	l := c.Links
	for i, k := range l.SigningKeys {
		if len(k) < 16 {
			bad("links.signing_keys", "key %d is %d bytes; each must be at least 16 (32 random bytes recommended)", i+1, len(k))
		}
	}
	if l.BaseURL != "" {
		if u, err := url.Parse(l.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.HasSuffix(l.BaseURL, "/") {
			bad("links.base_url", "must be an http:// or https:// URL with a host and no trailing slash, got %q", l.BaseURL)
		}
	}
	if !strings.HasPrefix(l.Prefix, "/") || len(l.Prefix) < 2 || strings.HasSuffix(l.Prefix, "/") || strings.Count(l.Prefix, "/") != 1 {
		bad("links.prefix", "must be one path segment like /l, got %q", l.Prefix)
	}
	for _, r := range reservedPrefixes {
		if l.Prefix == r {
			bad("links.prefix", "%q is one of the collector's own paths", l.Prefix)
		}
	}
	switch l.Store {
	case "auto", "nats":
	case "cassandra":
		if len(c.Cassandra.Hosts) == 0 {
			bad("links.store", "cassandra needs cassandra.hosts")
		}
	default:
		bad("links.store", "must be auto, nats or cassandra, got %q", l.Store)
	}
	if l.SlugLength < 4 || l.SlugLength > 32 {
		bad("links.slug_length", "must be 4..32, got %d", l.SlugLength)
	}
	if l.CacheSize < 1 {
		bad("links.cache_size", "must be at least 1, got %d", l.CacheSize)
	}
	for key, d := range map[string]time.Duration{"links.cache_ttl": l.CacheTTL, "links.unique_window": l.UniqueWindow} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %v", d)
		}
	}
}

// LinksStore is the store short links live in: links.store, with auto
// meaning Cassandra when it is configured and JetStream's key-value store
// otherwise.
func (c *Config) LinksStore() string {
	if c.Links.Store == "auto" {
		if len(c.Cassandra.Hosts) > 0 {
			return "cassandra"
		}
		return "nats"
	}
	return c.Links.Store
}

// LinksBaseURL is the public URL printed links start with.
func (c *Config) LinksBaseURL() string {
	if c.Links.BaseURL != "" {
		return c.Links.BaseURL
	}
	return "http://" + c.HTTP.Addr
}

package config

import (
	"time"
)

// HTTP is the collector's listener (http.*).
type HTTP struct {
	Addr                 string        `mapstructure:"addr"`
	ReadTimeout          time.Duration `mapstructure:"read_timeout"`
	WriteTimeout         time.Duration `mapstructure:"write_timeout"`
	IdleTimeout          time.Duration `mapstructure:"idle_timeout"`
	ShutdownDelay        time.Duration `mapstructure:"shutdown_delay"`
	MaxBodyBytes         int           `mapstructure:"max_body_bytes"`
	MaxDecompressedBytes int           `mapstructure:"max_decompressed_bytes"`
	MaxHeaderBytes       int           `mapstructure:"max_header_bytes"`
	MaxConns             int           `mapstructure:"max_conns"`
	CORSOrigins          []string      `mapstructure:"cors_origins"`
	TrustedProxies       []string      `mapstructure:"trusted_proxies"`
	BlockList            string        `mapstructure:"block_list"`
	VIDCookie            bool          `mapstructure:"vid_cookie"`
	VIDCookieDomain      string        `mapstructure:"vid_cookie_domain"`
	VIDCookieMaxAge      time.Duration `mapstructure:"vid_cookie_max_age"`
	VIDCookieHTTPOnly    bool          `mapstructure:"vid_cookie_http_only"`
	RateLimitPerIP       float64       `mapstructure:"rate_limit_per_ip"`
	RateBurstPerIP       int           `mapstructure:"rate_burst_per_ip"`
}

// Collector is what the collector does with events (collector.*).
type Collector struct {
	// Ack is what a 2xx means: "replicated" (JetStream's PubAck, the
	// stream's replicas) or "local" (this machine's spool, fsynced; the
	// forwarder moves it to JetStream behind the answer). Decision 0006.
	Ack              string        `mapstructure:"ack"`
	AckTimeout       time.Duration `mapstructure:"ack_timeout"`
	ForwardInterval  time.Duration `mapstructure:"forward_interval"`
	MaxBatchEvents   int           `mapstructure:"max_batch_events"`
	MaxEventBytes    int           `mapstructure:"max_event_bytes"`
	MaxInflightBytes int64         `mapstructure:"max_inflight_bytes"`
	HashKey          string        `mapstructure:"hash_key"`
	RedirectHosts    []string      `mapstructure:"redirect_hosts"`
	RedirectFallback string        `mapstructure:"redirect_fallback"`
	ServerTokens     []string      `mapstructure:"server_tokens"`
	DropBots         []string      `mapstructure:"drop_bots"`
	AppleRelayCIDRs  []string      `mapstructure:"apple_relay_cidrs"`
	GeoIPDB          string        `mapstructure:"geoip_db"`
	IPHandling       string        `mapstructure:"ip_handling"`
	IPHandlingByApp  []string      `mapstructure:"ip_handling_by_app"`
}

// Spool is the collector's disk fallback (spool.*).
type Spool struct {
	Dir           string        `mapstructure:"dir"`
	MaxBytes      int64         `mapstructure:"max_bytes"`
	SegmentBytes  int64         `mapstructure:"segment_bytes"`
	ReplayRetry   time.Duration `mapstructure:"replay_retry"`
	RetryAfterSec int           `mapstructure:"retry_after_seconds"`
}

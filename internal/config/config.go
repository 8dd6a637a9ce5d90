// Package config loads spoor's configuration: config.json read by viper,
// every key overridable by a SPOOR_* environment variable (key path upper-cased,
// dots as underscores: http.addr -> SPOOR_HTTP_ADDR), unknown keys rejected,
// and the result validated before anything starts.
package config

import (
	"time"
)

// Config is the whole configuration. docs/config.md lists every key.
type Config struct {
	DataDir     string    `mapstructure:"data_dir"`
	Procs       int       `mapstructure:"procs"`
	MemoryLimit int64     `mapstructure:"memory_limit"`
	Log         Log       `mapstructure:"log"`
	HTTP        HTTP      `mapstructure:"http"`
	Collector   Collector `mapstructure:"collector"`
	Spool       Spool     `mapstructure:"spool"`
	NATS        NATS      `mapstructure:"nats"`
	Sink        Sink      `mapstructure:"sink"`
	File        File      `mapstructure:"file"`
	Cassandra   Cassandra `mapstructure:"cassandra"`
	Proxy       Proxy     `mapstructure:"proxy"`
	Links       Links     `mapstructure:"links"`
	Segment     Segment   `mapstructure:"segment"`
	Admin       Admin     `mapstructure:"admin"`
	Plans       Plans     `mapstructure:"plans"`
	Quality     Quality   `mapstructure:"quality"`
	Canary      Canary    `mapstructure:"canary"`
	// Destinations: where events go after the store (destinations.go).
	Destinations []Destination `mapstructure:"destinations"`
}

type Log struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// Default returns the built-in defaults. config.json at the repository root
// holds the same values (a test keeps the two equal).
func Default() Config {
	return Config{
		DataDir: "./data", MemoryLimit: 0,
		Log: Log{Level: "info", Format: "console"},
		HTTP: HTTP{
			Addr: "127.0.0.1:8080", ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second,
			ShutdownDelay: 0, MaxBodyBytes: 1 << 20, MaxDecompressedBytes: 4 << 20, MaxHeaderBytes: 16 << 10, MaxConns: 65536,
			CORSOrigins: []string{}, TrustedProxies: []string{}, BlockList: "", VIDCookie: true, VIDCookieDomain: "", VIDCookieMaxAge: 400 * 24 * time.Hour, VIDCookieHTTPOnly: true,
			RateLimitPerIP: 0, RateBurstPerIP: 200,
		},
		Collector: Collector{
			Ack: "replicated", AckTimeout: time.Second, ForwardInterval: 50 * time.Millisecond, MaxBatchEvents: 500, MaxEventBytes: 64 << 10, MaxInflightBytes: 64 << 20, HashKey: "",
			RedirectHosts: []string{}, RedirectFallback: "/", ServerTokens: []string{},
			DropBots: []string{}, AppleRelayCIDRs: []string{}, GeoIPDB: "", IPHandling: "hash", IPHandlingByApp: []string{},
		},
		Spool: Spool{Dir: "", MaxBytes: 1 << 30, SegmentBytes: 8 << 20, ReplayRetry: time.Second, RetryAfterSec: 5},
		NATS: NATS{
			URL: "", Listen: "", Stream: "SPOOR_EVENTS", Subject: "spoor.events", DLQStream: "SPOOR_DLQ", DLQSubject: "spoor.dlq",
			FailedStream: "SPOOR_FAILED", FailedSubject: "spoor.failed",
			Replicas: 1, Partitions: 1, MaxAge: 72 * time.Hour, MaxBytes: 10 << 30, DedupWindow: 2 * time.Minute, Compression: "s2", MaxPending: 4096,
			ConnectTimeout: 5 * time.Second, PingInterval: 5 * time.Second,
		},
		Sink: Sink{
			Type: "auto", Run: "all", Consumer: "spoor-sink", BatchSize: 500, BatchBytes: 4 << 20, BatchWait: 500 * time.Millisecond, AckWait: 60 * time.Second,
			MaxAckPending: 20000, RateLimit: 0,
			Backoff:      []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute},
			WriteTimeout: 20 * time.Second, Partitions: []int{},
		},
		File: File{Dir: "", RollBytes: 64 << 20, RollInterval: time.Minute, DedupWindow: 250000},
		Cassandra: Cassandra{
			Hosts: []string{}, Port: 9042, Keyspace: "spoor",
			Replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}", Consistency: "local_quorum",
			Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Concurrency: 64, RateLimitRows: 0,
			Buckets: 16, TTL: 0, SessionGap: 30 * time.Minute, Sessions: true, SessionsDelay: 30 * time.Second, SessionsCache: 50000, ApplySchema: true,
		},
		Proxy: Proxy{
			Enabled: false, Addr: "127.0.0.1:8090", Engine: "fasthttp", Upstreams: []string{}, Via: "spoor", HealthPath: "", HealthInterval: 5 * time.Second,
			HealthTimeout: 2 * time.Second, FailThreshold: 3, FailCooldown: 10 * time.Second, DialTimeout: 5 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
			BodyTimeout: 30 * time.Second, MinBodyRate: 512,
			TrackInclude: []string{}, TrackExclude: []string{StaticAssets}, EventName: "http_request", App: "", QueueSize: 10000, QueueBytes: 16 << 20,
			FirstPartyPrefix: "/_e", CollectorURL: "",
			TLSAddr: "", TLSCertFile: "", TLSKeyFile: "", ACMEHosts: []string{}, ACMEDirectory: "https://acme-v02.api.letsencrypt.org/directory",
			ACMEEmail: "", ACMECAFile: "", ACMECacheDir: "",
		},
		Links: Links{
			SigningKeys: []string{}, AppendFields: []string{}, BaseURL: "", Prefix: "/l", Hosts: []string{}, Store: "auto",
			AdminTokens: []string{}, SlugLength: 7, CacheSize: 100000, CacheTTL: time.Minute, UniqueWindow: time.Hour,
		},
		Segment: Segment{WriteKeys: map[string]string{}, TrustedKeys: []string{}},
		Admin:   Admin{Tokens: []string{}},
		Plans:   Plans{Dir: "plans", ReloadInterval: 5 * time.Second},
		Quality: Quality{LossThreshold: 0.01, LossMeter: true, RetentionDays: []string{}, RetentionSweepInterval: time.Hour},
		Canary: Canary{Enabled: false, Interval: 10 * time.Second, Timeout: 2 * time.Minute, App: "spoor-canary", CollectorURL: "", ProxyURL: "",
			ProxyPath: "/", LinkSlug: "spoor-canary"},
		Destinations: []Destination{},
	}
}

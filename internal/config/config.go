// Package config loads spoor's configuration: config.json read by viper,
// every key overridable by a SPOOR_* environment variable (key path upper-cased,
// dots as underscores: http.addr -> SPOOR_HTTP_ADDR), unknown keys rejected,
// and the result validated before anything starts.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Config is the whole configuration. docs/config.md lists every key.
type Config struct {
	DataDir   string    `mapstructure:"data_dir"`
	Procs     int       `mapstructure:"procs"`
	Log       Log       `mapstructure:"log"`
	HTTP      HTTP      `mapstructure:"http"`
	Collector Collector `mapstructure:"collector"`
	Spool     Spool     `mapstructure:"spool"`
	NATS      NATS      `mapstructure:"nats"`
	Sink      Sink      `mapstructure:"sink"`
	File      File      `mapstructure:"file"`
	Cassandra Cassandra `mapstructure:"cassandra"`
	Proxy     Proxy     `mapstructure:"proxy"`
	Links     Links     `mapstructure:"links"`
	Segment   Segment   `mapstructure:"segment"`
}

type Log struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

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

type Collector struct {
	AckTimeout       time.Duration `mapstructure:"ack_timeout"`
	MaxBatchEvents   int           `mapstructure:"max_batch_events"`
	MaxEventBytes    int           `mapstructure:"max_event_bytes"`
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

type Spool struct {
	Dir           string        `mapstructure:"dir"`
	MaxBytes      int64         `mapstructure:"max_bytes"`
	SegmentBytes  int64         `mapstructure:"segment_bytes"`
	ReplayRetry   time.Duration `mapstructure:"replay_retry"`
	RetryAfterSec int           `mapstructure:"retry_after_seconds"`
}

type NATS struct {
	URL            string        `mapstructure:"url"`
	Listen         string        `mapstructure:"listen"`
	Stream         string        `mapstructure:"stream"`
	Subject        string        `mapstructure:"subject"`
	DLQStream      string        `mapstructure:"dlq_stream"`
	DLQSubject     string        `mapstructure:"dlq_subject"`
	Replicas       int           `mapstructure:"replicas"`
	Partitions     int           `mapstructure:"partitions"`
	MaxAge         time.Duration `mapstructure:"max_age"`
	MaxBytes       int64         `mapstructure:"max_bytes"`
	DedupWindow    time.Duration `mapstructure:"dedup_window"`
	MaxPending     int           `mapstructure:"max_pending"`
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
}

type Sink struct {
	Type          string          `mapstructure:"type"`
	Consumer      string          `mapstructure:"consumer"`
	BatchSize     int             `mapstructure:"batch_size"`
	BatchWait     time.Duration   `mapstructure:"batch_wait"`
	AckWait       time.Duration   `mapstructure:"ack_wait"`
	MaxAckPending int             `mapstructure:"max_ack_pending"`
	RateLimit     float64         `mapstructure:"rate_limit"`
	Backoff       []time.Duration `mapstructure:"backoff"`
	WriteTimeout  time.Duration   `mapstructure:"write_timeout"`
	Partitions    []int           `mapstructure:"partitions"`
}

type Cassandra struct {
	Hosts          []string      `mapstructure:"hosts"`
	Port           int           `mapstructure:"port"`
	Keyspace       string        `mapstructure:"keyspace"`
	Replication    string        `mapstructure:"replication"`
	Consistency    string        `mapstructure:"consistency"`
	LocalDC        string        `mapstructure:"local_dc"`
	Username       string        `mapstructure:"username"`
	Password       string        `mapstructure:"password"`
	TLS            CassandraTLS  `mapstructure:"tls"`
	Timeout        time.Duration `mapstructure:"timeout"`
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	Concurrency    int           `mapstructure:"concurrency"`
	RateLimitRows  float64       `mapstructure:"rate_limit_rows"`
	Buckets        int           `mapstructure:"buckets"`
	TTL            time.Duration `mapstructure:"ttl"`
	SessionGap     time.Duration `mapstructure:"session_gap"`
	Sessions       bool          `mapstructure:"sessions"`
	SessionsDelay  time.Duration `mapstructure:"sessions_delay"`
	ApplySchema    bool          `mapstructure:"apply_schema"`
}

type CassandraTLS struct {
	Enabled    bool   `mapstructure:"enabled"`
	CAFile     string `mapstructure:"ca_file"`
	CertFile   string `mapstructure:"cert_file"`
	KeyFile    string `mapstructure:"key_file"`
	VerifyHost bool   `mapstructure:"verify_host"`
}

type File struct {
	Dir          string        `mapstructure:"dir"`
	RollBytes    int64         `mapstructure:"roll_bytes"`
	RollInterval time.Duration `mapstructure:"roll_interval"`
	DedupWindow  int           `mapstructure:"dedup_window"`
}

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

// Links are signed redirects and short links (links/, docs/links.md).
type Links struct {
	SigningKeys  []string      `mapstructure:"signing_keys"`
	AppendFields []string      `mapstructure:"append_fields"`
	BaseURL      string        `mapstructure:"base_url"`
	Prefix       string        `mapstructure:"prefix"`
	Hosts        []string      `mapstructure:"hosts"`
	Store        string        `mapstructure:"store"`
	AdminTokens  []string      `mapstructure:"admin_tokens"`
	SlugLength   int           `mapstructure:"slug_length"`
	CacheSize    int           `mapstructure:"cache_size"`
	CacheTTL     time.Duration `mapstructure:"cache_ttl"`
	UniqueWindow time.Duration `mapstructure:"unique_window"`
}

// Segment is the Segment-compatible HTTP Tracking API (/v1/…; docs/events.md).
type Segment struct {
	// WriteKeys maps each write key to the app its events belong to;
	// empty: the /v1/ endpoints are off.
	WriteKeys map[string]string `mapstructure:"write_keys"`
	// TrustedKeys are write keys used by servers: their messages'
	// context.ip is believed (for the address hash and GeoIP).
	TrustedKeys []string `mapstructure:"trusted_keys"`
}

// StaticAssets is proxy.track_exclude's default: requests for these are
// passed on but not tracked.
const StaticAssets = `(?i)\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|eot|mp4|webm)$`

// Default returns the built-in defaults. config.json at the repository root
// holds the same values (a test keeps the two equal).
func Default() Config {
	return Config{
		DataDir: "./data",
		Log:     Log{Level: "info", Format: "console"},
		HTTP: HTTP{
			Addr: "127.0.0.1:8080", ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second,
			ShutdownDelay: 0, MaxBodyBytes: 1 << 20, MaxDecompressedBytes: 4 << 20, MaxHeaderBytes: 16 << 10, MaxConns: 65536,
			CORSOrigins: []string{}, TrustedProxies: []string{}, BlockList: "", VIDCookie: true, VIDCookieDomain: "", VIDCookieMaxAge: 400 * 24 * time.Hour, VIDCookieHTTPOnly: true,
			RateLimitPerIP: 0, RateBurstPerIP: 200,
		},
		Collector: Collector{
			AckTimeout: time.Second, MaxBatchEvents: 500, MaxEventBytes: 64 << 10, HashKey: "",
			RedirectHosts: []string{}, RedirectFallback: "/", ServerTokens: []string{},
			DropBots: []string{}, AppleRelayCIDRs: []string{}, GeoIPDB: "", IPHandling: "hash", IPHandlingByApp: []string{},
		},
		Spool: Spool{Dir: "", MaxBytes: 1 << 30, SegmentBytes: 8 << 20, ReplayRetry: time.Second, RetryAfterSec: 5},
		NATS: NATS{
			URL: "", Listen: "", Stream: "SPOOR_EVENTS", Subject: "spoor.events", DLQStream: "SPOOR_DLQ", DLQSubject: "spoor.dlq",
			Replicas: 1, Partitions: 1, MaxAge: 72 * time.Hour, MaxBytes: 10 << 30, DedupWindow: 2 * time.Minute, MaxPending: 4096,
			ConnectTimeout: 5 * time.Second,
		},
		Sink: Sink{
			Type: "auto", Consumer: "spoor-sink", BatchSize: 500, BatchWait: 500 * time.Millisecond, AckWait: 60 * time.Second,
			MaxAckPending: 20000, RateLimit: 0,
			Backoff:      []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute},
			WriteTimeout: 20 * time.Second, Partitions: []int{},
		},
		File: File{Dir: "", RollBytes: 64 << 20, RollInterval: time.Minute, DedupWindow: 250000},
		Cassandra: Cassandra{
			Hosts: []string{}, Port: 9042, Keyspace: "spoor",
			Replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}", Consistency: "local_quorum",
			Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, Concurrency: 64, RateLimitRows: 0,
			Buckets: 16, TTL: 0, SessionGap: 30 * time.Minute, Sessions: true, SessionsDelay: 30 * time.Second, ApplySchema: true,
		},
		Proxy: Proxy{
			Enabled: false, Addr: "127.0.0.1:8090", Engine: "fasthttp", Upstreams: []string{}, Via: "spoor", HealthPath: "", HealthInterval: 5 * time.Second,
			HealthTimeout: 2 * time.Second, FailThreshold: 3, FailCooldown: 10 * time.Second, DialTimeout: 5 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
			BodyTimeout: 30 * time.Second, MinBodyRate: 512,
			TrackInclude: []string{}, TrackExclude: []string{StaticAssets}, EventName: "http_request", App: "", QueueSize: 10000,
			FirstPartyPrefix: "/_e", CollectorURL: "",
			TLSAddr: "", TLSCertFile: "", TLSKeyFile: "", ACMEHosts: []string{}, ACMEDirectory: "https://acme-v02.api.letsencrypt.org/directory",
			ACMEEmail: "", ACMECAFile: "", ACMECacheDir: "",
		},
		Links: Links{
			SigningKeys: []string{}, AppendFields: []string{}, BaseURL: "", Prefix: "/l", Hosts: []string{}, Store: "auto",
			AdminTokens: []string{}, SlugLength: 7, CacheSize: 100000, CacheTTL: time.Minute, UniqueWindow: time.Hour,
		},
		Segment: Segment{WriteKeys: map[string]string{}, TrustedKeys: []string{}},
	}
}

// Load reads path (a missing file means defaults), applies SPOOR_* env
// overrides, rejects unknown keys and validates.
func Load(path string) (Config, error) {
	v := viper.New()
	v.SetEnvPrefix("SPOOR")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	// Viper only sees env vars for keys it knows: register every key.
	for key, val := range flatten(Default()) {
		v.SetDefault(key, val)
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("json")
		if err := v.ReadInConfig(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Config{}, fmt.Errorf("reading config %s: %w", path, err)
		}
	}
	var c Config
	hook := mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
		stringToIntSlice,
		stringToStringMap,
	)
	if err := v.UnmarshalExact(&c, viper.DecodeHook(hook)); err != nil {
		return Config{}, fmt.Errorf("decoding config: %w", err)
	}
	if err := c.exactWriteKeys(path); err != nil {
		return Config{}, err
	}
	c.resolvePaths()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// stringToIntSlice reads a list of numbers from an environment variable
// ("0,2"; empty: none). StringToSliceHookFunc only makes []string.
func stringToIntSlice(f, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t != reflect.TypeOf([]int(nil)) {
		return data, nil
	}
	var out []int
	for _, part := range strings.Split(data.(string), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func (c *Config) resolvePaths() {
	if c.Spool.Dir == "" {
		c.Spool.Dir = filepath.Join(c.DataDir, "spool")
	}
	if c.File.Dir == "" {
		c.File.Dir = filepath.Join(c.DataDir, "events")
	}
	if c.Proxy.ACMECacheDir == "" {
		c.Proxy.ACMECacheDir = filepath.Join(c.DataDir, "acme")
	}
}

// Validate checks the configuration without doing any I/O.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if c.Procs < 0 {
		bad("procs", "must be 0 (automatic) or more, got %d", c.Procs)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "console" {
		bad("log.format", "must be json or console, got %q", c.Log.Format)
	}
	if c.HTTP.Addr == "" {
		bad("http.addr", "must not be empty")
	}
	if c.HTTP.ShutdownDelay < 0 || c.HTTP.ShutdownDelay > 5*time.Minute {
		bad("http.shutdown_delay", "must be 0..5m, got %v", c.HTTP.ShutdownDelay)
	}
	for key, d := range map[string]time.Duration{"http.read_timeout": c.HTTP.ReadTimeout, "http.write_timeout": c.HTTP.WriteTimeout,
		"http.idle_timeout": c.HTTP.IdleTimeout, "collector.ack_timeout": c.Collector.AckTimeout, "sink.batch_wait": c.Sink.BatchWait,
		"sink.ack_wait": c.Sink.AckWait, "nats.dedup_window": c.NATS.DedupWindow, "spool.replay_retry": c.Spool.ReplayRetry,
		"file.roll_interval": c.File.RollInterval, "sink.write_timeout": c.Sink.WriteTimeout, "nats.connect_timeout": c.NATS.ConnectTimeout} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %v", d)
		}
	}
	for key, n := range map[string]int64{"http.max_body_bytes": int64(c.HTTP.MaxBodyBytes), "http.max_decompressed_bytes": int64(c.HTTP.MaxDecompressedBytes),
		"http.max_header_bytes": int64(c.HTTP.MaxHeaderBytes), "http.max_conns": int64(c.HTTP.MaxConns), "collector.max_batch_events": int64(c.Collector.MaxBatchEvents),
		"collector.max_event_bytes": int64(c.Collector.MaxEventBytes), "spool.max_bytes": c.Spool.MaxBytes, "spool.segment_bytes": c.Spool.SegmentBytes,
		"nats.max_bytes": c.NATS.MaxBytes, "nats.max_pending": int64(c.NATS.MaxPending), "sink.batch_size": int64(c.Sink.BatchSize),
		"sink.max_ack_pending": int64(c.Sink.MaxAckPending), "file.roll_bytes": c.File.RollBytes, "spool.retry_after_seconds": int64(c.Spool.RetryAfterSec)} {
		if n <= 0 {
			bad(key, "must be positive, got %d", n)
		}
	}
	if c.HTTP.VIDCookieMaxAge < time.Hour {
		bad("http.vid_cookie_max_age", "must be at least 1h, got %v", c.HTTP.VIDCookieMaxAge)
	}
	if d := c.HTTP.VIDCookieDomain; d != "" && (strings.ContainsAny(d, " ;,/:") || !strings.Contains(strings.Trim(d, "."), ".")) {
		bad("http.vid_cookie_domain", "must be a registrable domain such as example.com or .example.com, got %q", d)
	}
	if c.HTTP.RateLimitPerIP < 0 || c.HTTP.RateBurstPerIP <= 0 {
		bad("http.rate_limit_per_ip", "must be >= 0 (0 = off), with a positive http.rate_burst_per_ip")
	}
	if c.HTTP.MaxDecompressedBytes < c.HTTP.MaxBodyBytes {
		bad("http.max_decompressed_bytes", "must be at least http.max_body_bytes")
	}
	if c.Spool.SegmentBytes > c.Spool.MaxBytes {
		bad("spool.segment_bytes", "must not exceed spool.max_bytes")
	}
	if c.Sink.MaxAckPending < c.Sink.BatchSize {
		bad("sink.max_ack_pending", "must be at least sink.batch_size, or the sink starves")
	}
	if c.NATS.Replicas != 1 && c.NATS.Replicas != 3 && c.NATS.Replicas != 5 {
		bad("nats.replicas", "must be 1, 3 or 5, got %d", c.NATS.Replicas)
	}
	if c.NATS.URL == "" && c.NATS.Replicas != 1 {
		bad("nats.replicas", "the embedded server is a single node: use 1, or set nats.url to a cluster")
	}
	if c.NATS.Partitions < 1 || c.NATS.Partitions > 256 {
		bad("nats.partitions", "must be 1..256, got %d", c.NATS.Partitions)
	}
	seenPart := map[int]bool{}
	for _, p := range c.Sink.Partitions {
		if p < 0 || p >= c.NATS.Partitions || seenPart[p] {
			bad("sink.partitions", "%d is not one of the %d partitions (0..%d), or is listed twice", p, c.NATS.Partitions, c.NATS.Partitions-1)
		}
		seenPart[p] = true
	}
	if c.Sink.AckWait <= c.Sink.WriteTimeout {
		bad("sink.ack_wait", "must exceed sink.write_timeout, or a slow write is redelivered while in progress")
	}
	if len(c.Sink.Backoff) == 0 {
		bad("sink.backoff", "needs at least one delay")
	}
	if c.Sink.RateLimit < 0 {
		bad("sink.rate_limit", "must be >= 0 (0 means unlimited)")
	}
	if c.File.DedupWindow < 0 {
		bad("file.dedup_window", "must be >= 0")
	}
	switch c.Sink.Type {
	case "auto", "file":
	case "cassandra":
		if len(c.Cassandra.Hosts) == 0 {
			bad("sink.type", "cassandra needs cassandra.hosts")
		}
	default:
		bad("sink.type", "must be auto, file or cassandra, got %q", c.Sink.Type)
	}
	c.validateCassandra(bad)
	c.validateProxy(bad)
	c.validateLinks(bad)
	c.validateSegment(bad)
	c.validatePrivacy(bad)
	for _, o := range c.HTTP.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			bad("http.cors_origins", "%q must be * or start with http:// or https://", o)
		}
	}
	for _, d := range c.Sink.Backoff {
		if d <= 0 {
			bad("sink.backoff", "every delay must be positive")
		}
	}
	return errors.Join(errs...)
}

// SinkType resolves "auto": Cassandra when hosts are configured, else file.
func (c *Config) SinkType() string {
	if c.Sink.Type == "auto" {
		if len(c.Cassandra.Hosts) > 0 {
			return "cassandra"
		}
		return "file"
	}
	return c.Sink.Type
}

func (c *Config) validateCassandra(bad func(key, format string, a ...any)) {
	k := c.Cassandra
	if !validName.MatchString(k.Keyspace) {
		bad("cassandra.keyspace", "must be a CQL identifier (letters, digits, _; at most 48), got %q", k.Keyspace)
	}
	if !strings.Contains(k.Replication, "'class'") {
		bad("cassandra.replication", "must be a CQL replication map such as {'class': 'SimpleStrategy', 'replication_factor': 1}")
	}
	switch strings.ToLower(k.Consistency) {
	case "one", "local_one", "quorum", "local_quorum", "each_quorum", "all", "two", "three":
	default:
		bad("cassandra.consistency", "unknown consistency %q", k.Consistency)
	}
	if k.Port <= 0 || k.Port > 65535 {
		bad("cassandra.port", "must be a TCP port")
	}
	if k.Timeout <= 0 || k.ConnectTimeout <= 0 {
		bad("cassandra.timeout", "timeouts must be positive")
	}
	if k.Concurrency <= 0 {
		bad("cassandra.concurrency", "must be positive")
	}
	if k.Buckets <= 0 || k.Buckets > 32767 {
		bad("cassandra.buckets", "must be 1..32767")
	}
	if k.RateLimitRows < 0 || k.TTL < 0 {
		bad("cassandra.rate_limit_rows", "rate limit and ttl must be >= 0")
	}
	if k.SessionGap <= 0 {
		bad("cassandra.session_gap", "must be positive")
	}
	if k.SessionsDelay < 0 {
		bad("cassandra.sessions_delay", "must be >= 0")
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		bad("cassandra.tls", "cert_file and key_file go together")
	}
}

var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

// flatten walks a Config into "a.b" -> value, using mapstructure tags.
func flatten(c Config) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		t := v.Type()
		for n := 0; n < t.NumField(); n++ {
			key := t.Field(n).Tag.Get("mapstructure")
			if prefix != "" {
				key = prefix + "." + key
			}
			fv := v.Field(n)
			if fv.Kind() == reflect.Struct {
				walk(key, fv)
				continue
			}
			out[key] = fv.Interface()
		}
	}
	walk("", reflect.ValueOf(c))
	return out
}

// Keys lists every key, sorted by the caller if needed (docs and tests use it).
func Keys() map[string]any { return flatten(Default()) }

// Tree is the configuration as config.json spells it: objects under the
// keys, durations as strings ("30s"), secrets (passwords, keys, tokens)
// replaced by "<redacted>" when set. `spoor config` prints it.
func (c Config) Tree() map[string]any {
	secret := map[string]bool{"password": true, "hash_key": true, "server_tokens": true, "signing_keys": true, "admin_tokens": true,
		"write_keys": true, "trusted_keys": true}
	var walk func(v reflect.Value) map[string]any
	walk = func(v reflect.Value) map[string]any {
		out := map[string]any{}
		t := v.Type()
		for n := 0; n < t.NumField(); n++ {
			key, fv := t.Field(n).Tag.Get("mapstructure"), v.Field(n)
			switch {
			case fv.Kind() == reflect.Struct:
				out[key] = walk(fv)
			case secret[key] && !fv.IsZero() && fv.Len() > 0:
				out[key] = "<redacted>"
			case fv.Type() == reflect.TypeOf(time.Duration(0)):
				out[key] = time.Duration(fv.Int()).String()
			default:
				out[key] = fv.Interface()
			}
		}
		return out
	}
	return walk(reflect.ValueOf(c))
}

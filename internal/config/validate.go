package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Validate checks the configuration without doing any I/O.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if c.MemoryLimit != 0 && c.MemoryLimit < 64<<20 {
		bad("memory_limit", "must be 0 (automatic) or at least 64 MiB (67108864), got %d", c.MemoryLimit)
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
	for key, d := range map[string]time.Duration{"http.read_timeout": c.HTTP.ReadTimeout, "plans.reload_interval": c.Plans.ReloadInterval, "http.write_timeout": c.HTTP.WriteTimeout,
		"http.idle_timeout": c.HTTP.IdleTimeout, "collector.ack_timeout": c.Collector.AckTimeout, "collector.forward_interval": c.Collector.ForwardInterval, "sink.batch_wait": c.Sink.BatchWait,
		"sink.ack_wait": c.Sink.AckWait, "nats.dedup_window": c.NATS.DedupWindow, "spool.replay_retry": c.Spool.ReplayRetry,
		"file.roll_interval": c.File.RollInterval, "sink.write_timeout": c.Sink.WriteTimeout, "nats.connect_timeout": c.NATS.ConnectTimeout, "nats.ping_interval": c.NATS.PingInterval} {
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
	if c.Collector.Ack != "replicated" && c.Collector.Ack != "local" {
		bad("collector.ack", "must be replicated or local, got %q", c.Collector.Ack)
	}
	if c.Spool.SegmentBytes > c.Spool.MaxBytes {
		bad("spool.segment_bytes", "must not exceed spool.max_bytes")
	}
	if c.Collector.MaxInflightBytes < 1<<20 {
		bad("collector.max_inflight_bytes", "must be at least 1 MiB (1048576), got %d", c.Collector.MaxInflightBytes)
	}
	if c.Sink.BatchBytes < 2<<20 {
		bad("sink.batch_bytes", "must be at least 2 MiB (2097152): a partition's fetch must hold the largest message, got %d", c.Sink.BatchBytes)
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
	if c.NATS.Compression != "s2" && c.NATS.Compression != "none" {
		bad("nats.compression", "must be s2 or none, got %q", c.NATS.Compression)
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
	switch c.Sink.Run {
	case "all", "store", "destinations":
	default:
		bad("sink.run", "must be all, store or destinations, got %q", c.Sink.Run)
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
	c.validateAdmin(bad)
	c.validateDestinations(bad)
	c.validateSegment(bad)
	c.validatePrivacy(bad)
	c.validateQuality(bad)
	c.validateCanary(bad)
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

package config

import (
	"regexp"
	"strings"
	"time"
)

// Cassandra is the Cassandra store (cassandra.*).
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
	SessionsCache  int           `mapstructure:"sessions_cache"`
	ApplySchema    bool          `mapstructure:"apply_schema"`
}

type CassandraTLS struct {
	Enabled    bool   `mapstructure:"enabled"`
	CAFile     string `mapstructure:"ca_file"`
	CertFile   string `mapstructure:"cert_file"`
	KeyFile    string `mapstructure:"key_file"`
	VerifyHost bool   `mapstructure:"verify_host"`
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
	if k.SessionsCache < 0 {
		bad("cassandra.sessions_cache", "must be >= 0 (0: no cache)")
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		bad("cassandra.tls", "cert_file and key_file go together")
	}
}

var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

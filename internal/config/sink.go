package config

import (
	"time"
)

// Sink is the workers that store events (sink.*).
type Sink struct {
	Type          string          `mapstructure:"type"`
	Run           string          `mapstructure:"run"` // all, store, destinations: what a sink process runs
	Consumer      string          `mapstructure:"consumer"`
	BatchSize     int             `mapstructure:"batch_size"`
	BatchBytes    int             `mapstructure:"batch_bytes"`
	BatchWait     time.Duration   `mapstructure:"batch_wait"`
	AckWait       time.Duration   `mapstructure:"ack_wait"`
	MaxAckPending int             `mapstructure:"max_ack_pending"`
	RateLimit     float64         `mapstructure:"rate_limit"`
	Backoff       []time.Duration `mapstructure:"backoff"`
	WriteTimeout  time.Duration   `mapstructure:"write_timeout"`
	Partitions    []int           `mapstructure:"partitions"`
}

// File is the file store (file.*).
type File struct {
	Dir          string        `mapstructure:"dir"`
	RollBytes    int64         `mapstructure:"roll_bytes"`
	RollInterval time.Duration `mapstructure:"roll_interval"`
	DedupWindow  int           `mapstructure:"dedup_window"`
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

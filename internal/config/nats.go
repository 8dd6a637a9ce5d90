package config

import (
	"time"
)

// NATS is the bus (nats.*): the embedded server, or a cluster's URL.
type NATS struct {
	URL           string        `mapstructure:"url"`
	Listen        string        `mapstructure:"listen"`
	Stream        string        `mapstructure:"stream"`
	Subject       string        `mapstructure:"subject"`
	DLQStream     string        `mapstructure:"dlq_stream"`
	DLQSubject    string        `mapstructure:"dlq_subject"`
	FailedStream  string        `mapstructure:"failed_stream"`
	FailedSubject string        `mapstructure:"failed_subject"`
	Replicas      int           `mapstructure:"replicas"`
	Partitions    int           `mapstructure:"partitions"`
	MaxAge        time.Duration `mapstructure:"max_age"`
	MaxBytes      int64         `mapstructure:"max_bytes"`
	DedupWindow   time.Duration `mapstructure:"dedup_window"`
	// Compression is how the streams' file store keeps sealed blocks on
	// disk: "s2" or "none".
	Compression    string        `mapstructure:"compression"`
	MaxPending     int           `mapstructure:"max_pending"`
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	// PingInterval is how often the client asks the server for a pong; two
	// unanswered pings mark the connection dead, so a link that stops
	// carrying packets without closing is noticed within about two intervals.
	PingInterval time.Duration `mapstructure:"ping_interval"`
}

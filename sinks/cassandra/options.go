package cassandra

import (
	"fmt"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/apache/cassandra-gocql-driver/v2/gocqlzerolog"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
)

// Options configures the Cassandra sink (config: cassandra.*).
type Options = config.Cassandra

// NewCluster builds the driver configuration the sink, schema apply and
// tools use, overriding the defaults that do not fit an event sink
// (infra-notes §2): token-aware routing, explicit consistency, timeouts
// above the server's, retries for idempotent statements only.
func NewCluster(o Options, log zerolog.Logger) (*gocql.ClusterConfig, error) {
	c := gocql.NewCluster(o.Hosts...)
	c.Port = o.Port
	cons, err := parseConsistency(o.Consistency)
	if err != nil {
		return nil, err
	}
	c.Consistency = cons
	c.Timeout = o.Timeout
	c.ConnectTimeout = o.ConnectTimeout
	c.WriteTimeout = o.Timeout
	c.NumConns = 2
	c.DefaultIdempotence = true
	c.RetryPolicy = &gocql.ExponentialBackoffRetryPolicy{NumRetries: 3, Min: 100 * time.Millisecond, Max: 2 * time.Second}
	fallback := gocql.RoundRobinHostPolicy()
	if o.LocalDC != "" {
		fallback = gocql.DCAwareRoundRobinPolicy(o.LocalDC)
	}
	c.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(fallback, gocql.ShuffleReplicas())
	c.ReconnectInterval = 2 * time.Second
	c.Logger = gocqlzerolog.NewZerologLogger(log.With().Str("component", "gocql").Logger().Level(max(log.GetLevel(), zerolog.WarnLevel)))
	if o.Username != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: o.Username, Password: o.Password}
	}
	if o.TLS.Enabled {
		c.SslOpts = &gocql.SslOptions{CaPath: o.TLS.CAFile, CertPath: o.TLS.CertFile, KeyPath: o.TLS.KeyFile,
			EnableHostVerification: o.TLS.VerifyHost}
	}
	return c, nil
}

func parseConsistency(s string) (gocql.Consistency, error) {
	switch strings.ToLower(s) {
	case "one":
		return gocql.One, nil
	case "two":
		return gocql.Two, nil
	case "three":
		return gocql.Three, nil
	case "quorum":
		return gocql.Quorum, nil
	case "all":
		return gocql.All, nil
	case "local_quorum":
		return gocql.LocalQuorum, nil
	case "each_quorum":
		return gocql.EachQuorum, nil
	case "local_one":
		return gocql.LocalOne, nil
	}
	return 0, fmt.Errorf("unknown cassandra.consistency %q", s)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

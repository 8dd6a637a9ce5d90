package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"
)

func init() {
	register(command{name: "config", short: "print the effective configuration as JSON (secrets redacted) and exit",
		run: func(c *invocation) int { return printConfig(c.cfg) }})
	register(command{name: "schema apply", short: "create the Cassandra keyspace and apply pending migrations",
		run: func(c *invocation) int { return applySchema(c.cfg, newLogger(c.cfg.Log)) }})
}

func printConfig(cfg config.Config) int {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg.Tree()); err != nil {
		fmt.Fprintf(os.Stderr, "spoor: %v\n", err)
		return 1
	}
	return 0
}

func applySchema(cfg config.Config, log zerolog.Logger) int {
	if len(cfg.Cassandra.Hosts) == 0 {
		fmt.Fprintln(os.Stderr, "spoor: schema apply needs cassandra.hosts (SPOOR_CASSANDRA_HOSTS)")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := app.ApplySchema(ctx, cfg, log); err != nil {
		log.Error().Err(err).Msg("schema apply failed")
		return 1
	}
	log.Info().Str("keyspace", cfg.Cassandra.Keyspace).Msg("schema up to date")
	return 0
}

// Command spoor runs the tracking pipeline. main only wires: it loads the
// configuration, builds the logger, starts the roles and stops them on
// SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/app"
	"github.com/spoor-dev/spoor/internal/config"
)

const usage = `usage: spoor [-config config.json] <command>

commands:
  run        the whole pipeline on one machine: embedded NATS JetStream,
             collector and sink workers
  collector  the HTTP collector only (set nats.url to a NATS cluster)
  sink       sink workers only (set nats.url to a NATS cluster)
  schema apply
             create the Cassandra keyspace and apply pending migrations
  config     print the effective configuration as JSON and exit
`

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("spoor", flag.ContinueOnError)
	cfgPath := fs.String("config", "config.json", "configuration file (missing file: built-in defaults)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit (benchmarks)")
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(os.Args[1:]); err != nil || fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "spoor: %v\n", err)
		return 2
	}
	var roles app.Roles
	switch fs.Arg(0) {
	case "run":
		roles = app.Roles{Collector: true, Sink: true}
	case "collector":
		roles = app.Roles{Collector: true}
	case "sink":
		roles = app.Roles{Sink: true}
	case "config":
		return printConfig(cfg)
	case "schema":
		if fs.Arg(1) != "apply" {
			fs.Usage()
			return 2
		}
		return applySchema(cfg, newLogger(cfg.Log))
	default:
		fs.Usage()
		return 2
	}
	log := newLogger(cfg.Log)
	tuneGC()
	if n := app.Procs(cfg.Procs, roles); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			log.Error().Err(err).Msg("cpu profile")
			return 1
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg, roles, log)
	if err != nil {
		log.Error().Err(err).Msg("start failed")
		return 1
	}
	ev := log.Info().Str("command", fs.Arg(0)).Str("data_dir", cfg.DataDir).Int("gomaxprocs", runtime.GOMAXPROCS(0))
	if a.Addr() != "" {
		ev = ev.Str("listen", "http://"+a.Addr())
	}
	if cfg.NATS.URL == "" {
		ev = ev.Str("nats", "embedded")
	} else {
		ev = ev.Str("nats", cfg.NATS.URL)
	}
	if roles.Sink && cfg.SinkType() == "cassandra" {
		ev = ev.Str("events", fmt.Sprintf("cassandra %v keyspace %s", cfg.Cassandra.Hosts, cfg.Cassandra.Keyspace))
	} else if roles.Sink {
		ev = ev.Str("events", cfg.File.Dir+"/dt=YYYY-MM-DD/hour=HH/part-*.ndjson.gz")
	}
	ev.Msg("spoor started")
	<-ctx.Done()
	log.Info().Msg("shutting down")
	a.Stop()
	log.Info().Msg("stopped")
	return 0
}

func newLogger(c config.Log) zerolog.Logger {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	lvl, _ := zerolog.ParseLevel(c.Level)
	var l zerolog.Logger
	if c.Format == "console" {
		l = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly})
	} else {
		l = zerolog.New(os.Stderr)
	}
	return l.Level(lvl).With().Timestamp().Str("svc", "spoor").Logger()
}

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"
)

func init() {
	register(command{name: "run", short: "the whole pipeline on one machine: embedded NATS JetStream, collector and sink workers",
		run: func(c *invocation) int { return serve(c, "run", app.Roles{Collector: true, Sink: true}) }})
	register(command{name: "collector", short: "the HTTP collector only (set nats.url to a NATS cluster)",
		run: func(c *invocation) int { return serve(c, "collector", app.Roles{Collector: true}) }})
	register(command{name: "sink", short: "sink workers only (set nats.url to a NATS cluster)",
		run: func(c *invocation) int { return serve(c, "sink", app.Roles{Sink: true}) }})
	register(command{name: "proxy", short: "the tracking reverse proxy in front of proxy.upstreams (set nats.url to a NATS cluster)",
		run: func(c *invocation) int { return serve(c, "proxy", app.Roles{Proxy: true}) }})
	register(command{name: "canary", short: "send marked events through every entry point of canary.collector_url and find them in the store and destinations (its /metrics on http.addr)",
		run: func(c *invocation) int { return serve(c, "canary", app.Roles{Canary: true}) }})
}

// serve runs roles until SIGINT or SIGTERM, then stops them in the order
// that loses nothing.
func serve(c *invocation, name string, roles app.Roles) int {
	cfg := c.cfg
	log := newLogger(cfg.Log)
	if name == "run" && cfg.Proxy.Enabled {
		roles.Proxy = true
	}
	tuneGC()
	memLimit, memFrom := app.SetMemoryLimit(cfg)
	if n := app.Procs(cfg.Procs, roles, cfg.Collector.Ack == "local"); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	if c.cpuProfile != "" {
		stopProfile, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			log.Error().Err(err).Msg("cpu profile")
			return 1
		}
		defer stopProfile()
	}
	if c.pprofAddr != "" {
		at, err := servePprof(c.pprofAddr)
		if err != nil {
			log.Error().Err(err).Msg("pprof")
			return 1
		}
		log.Info().Str("pprof", "http://"+at+"/debug/pprof/").Msg("serving profiles")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg, roles, log)
	if err != nil {
		log.Error().Err(err).Msg("start failed")
		return 1
	}
	ev := log.Info().Str("command", name).Str("data_dir", cfg.DataDir).Int("gomaxprocs", runtime.GOMAXPROCS(0)).
		Str("memory_limit", fmt.Sprintf("%d MiB (%s)", memLimit>>20, memFrom))
	if a.Addr() != "" {
		ev = ev.Str("listen", "http://"+a.Addr())
	}
	if a.ProxyAddr() != "" {
		ev = ev.Str("proxy", "http://"+a.ProxyAddr())
	}
	if cfg.NATS.URL == "" {
		ev = ev.Str("nats", "embedded")
	} else {
		ev = ev.Str("nats", cfg.NATS.URL).Int("partitions", cfg.NATS.Partitions)
	}
	if roles.Sink && cfg.SinkType() == "cassandra" {
		ev = ev.Str("events", fmt.Sprintf("cassandra %v keyspace %s", cfg.Cassandra.Hosts, cfg.Cassandra.Keyspace))
	} else if roles.Sink {
		ev = ev.Str("events", cfg.File.Dir+"/dt=YYYY-MM-DD/hour=HH/part-*.ndjson.gz")
	}
	ev.Msg("spoor started")
	if a.Addr() != "" && roles.Collector {
		fmt.Fprint(os.Stderr, startHint(cfg, a.Addr(), roles.Sink))
	}
	<-ctx.Done()
	log.Info().Msg("shutting down")
	a.Stop()
	log.Info().Msg("stopped")
	return 0
}

// startHint tells a new user where to send events, how to watch them, and
// when the file store shows them.
func startHint(cfg config.Config, addr string, sink bool) string {
	host := addr
	if h, port, err := net.SplitHostPort(addr); err == nil && (h == "" || h == "0.0.0.0" || h == "::") {
		host = net.JoinHostPort("127.0.0.1", port)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n  send an event:   curl -X POST -d '{\"ename\":\"hello\",\"vid\":\"v1\"}' http://%s/tr/v1/\n", host)
	fmt.Fprintf(&b, "  watch them live: spoor tail            (or open http://%s/admin/)\n", host)
	if sink && cfg.SinkType() != "cassandra" {
		fmt.Fprintf(&b, "  stored in:       %s, a file per hour, visible once it rolls (file.roll_interval: %s)\n", cfg.File.Dir, cfg.File.RollInterval)
	}
	return b.String() + "\n"
}

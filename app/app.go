// Package app wires spoor's parts for each role (run, collector, sink) and
// stops them in the order that loses nothing. cmd/spoor and the end-to-end
// tests both start the pipeline through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spoor-dev/spoor/links"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/blocklist"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks"
)

// Roles says which parts this process runs.
type Roles struct{ Collector, Sink, Proxy, Canary bool }

// App is a running pipeline (or part of one).
type App struct {
	cfg    config.Config
	log    zerolog.Logger
	Reg    *prometheus.Registry
	emb    *bus.Embedded
	Bus    *bus.Bus
	spool  *spool.Spool
	lossMu sync.Mutex
	lossKV jetstream.KeyValue // the loss counts, for the dashboard (loss.go)
	coll   *collector.Collector
	ln     net.Listener
	status *http.Server // /metrics of a process without the collector
	sink   sinks.Sink
	// destinations: the configured destinations' sinks (destinations.go).
	failed       sinks.Sink // the failed events' store (failed.go)
	destinations []sinks.Sink
	destSession  *gocql.Session // the destinations' view of Cassandra's forgotten table
	proxy        *proxyRole
	block        *blocklist.List
	geoip        interface{ Close() error } // the GeoIP database, when open
	// linkSession: the Cassandra session of the short links, when they live there.
	linkSession interface{ Close() }
	links       links.Store // the collector's short links (startLinks)
	// canarySession: the canary's view of Cassandra (canary.go).
	canarySession interface{ Close() }
	runCtx        context.Context
	people        *people // the forget endpoint's store (person.go)

	cancel context.CancelFunc
	wg     sync.WaitGroup
	// backlog exports the consumers' backlog (backlog.go).
	backlog backlog
	sinkWG  sync.WaitGroup
}

// Start brings up the roles. On error everything started is stopped again.
func Start(ctx context.Context, cfg config.Config, roles Roles, log zerolog.Logger) (a *App, err error) {
	a = &App{cfg: cfg, log: log, Reg: prometheus.NewRegistry()}
	a.Reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer func() {
		if err != nil {
			a.Stop()
		}
	}()
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel, a.runCtx = cancel, runCtx
	for _, w := range cfg.Deprecated() {
		log.Warn().Msg(w)
	}
	a.trimMemory(runCtx)

	if cfg.NATS.URL == "" {
		if a.emb, err = bus.StartEmbedded(filepath.Join(cfg.DataDir, "nats"), cfg.NATS.Listen); err != nil {
			return a, err
		}
	}
	if a.Bus, err = bus.Connect(BusOptions(cfg), a.emb, log); err != nil {
		return a, err
	}
	if roles.Sink || a.emb != nil {
		sctx, scancel := context.WithTimeout(ctx, 60*time.Second)
		err = a.Bus.EnsureStreams(sctx)
		scancel()
		if err != nil {
			return a, err
		}
	} else {
		// A collector must come up even while NATS is down: it spools.
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := a.Bus.EnsureStreams(runCtx); err != nil && runCtx.Err() == nil {
				log.Error().Err(err).Msg("creating streams")
			}
		}()
	}
	if roles.Sink {
		a.makeRoom(runCtx)
		if cfg.Sink.Run != "destinations" {
			if err = a.startSink(ctx, runCtx); err != nil {
				return a, err
			}
		}
		if cfg.Sink.Run != "store" {
			if err = a.startDestinations(ctx, runCtx); err != nil {
				return a, err
			}
		}
	}
	if roles.Collector || roles.Proxy {
		if a.block, err = blocklist.Open(cfg.HTTP.BlockList, a.Reg, log); err != nil {
			return a, err
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.block.Watch(runCtx, time.Second)
		}()
		if err = a.startCollector(runCtx); err != nil {
			return a, err
		}
	}
	if roles.Collector {
		if err = a.serveCollector(); err != nil {
			return a, err
		}
	} else if err = a.startStatus(); err != nil {
		return a, err
	}
	if roles.Proxy {
		if err = a.startProxy(roles.Collector); err != nil {
			return a, err
		}
	}
	if roles.Canary || cfg.Canary.Enabled && roles.Collector && roles.Sink {
		if err = a.startCanary(ctx); err != nil {
			return a, err
		}
	}
	a.releaseCode(runCtx)
	return a, nil
}

// startStatus serves /metrics, /healthz and /readyz on http.addr for a
// process without the collector (a `spoor sink`), so its counters can be
// scraped like a collector's.
func (a *App) startStatus() error {
	ln, err := net.Listen("tcp", a.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", a.cfg.HTTP.Addr, err)
	}
	a.ln = ln
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.Reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !a.Bus.Connected() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"ready":false,"reason":"nats unreachable"}`)
			return
		}
		fmt.Fprint(w, `{"ready":true}`)
	})
	a.status = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.status.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Msg("status server stopped")
		}
	}()
	return nil
}

// BusOptions is the bus configuration of cfg (tools connect with it too).
func BusOptions(cfg config.Config) bus.Options {
	n := cfg.NATS
	return bus.Options{URL: n.URL, Name: "spoor", Stream: n.Stream, Subject: n.Subject, DLQStream: n.DLQStream,
		DLQSubject: n.DLQSubject, FailedStream: n.FailedStream, FailedSubject: n.FailedSubject, Replicas: n.Replicas, Partitions: n.Partitions, MaxAge: n.MaxAge, MaxBytes: n.MaxBytes,
		DedupWindow: n.DedupWindow, Compression: n.Compression, MaxPending: n.MaxPending, ConnectTimeout: n.ConnectTimeout, PingInterval: n.PingInterval}
}

// Addr is where the collector (or a sink's status server) listens.
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Stop shuts down in the order that loses nothing: stop taking requests and
// let each finish (it waits for its PubAck or spool fsync), stop the
// replayer, close the spool, let the sink finish its batch in hand, then
// drain NATS and stop the embedded server.
func (a *App) Stop() {
	a.stopProxy() // its last events still go through the collector's publish and spool
	if a.coll != nil {
		if err := a.coll.Shutdown(); err != nil {
			a.log.Warn().Err(err).Msg("http shutdown")
		}
	}
	if a.status != nil {
		_ = a.status.Close()
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	if a.linkSession != nil {
		a.linkSession.Close()
	}
	if a.canarySession != nil {
		a.canarySession.Close()
	}
	a.people.stop()
	if a.spool != nil {
		a.spool.Close()
	}
	a.sinkWG.Wait()
	if a.sink != nil {
		if err := a.sink.Close(); err != nil {
			a.log.Error().Err(err).Msg("closing sink")
		}
	}
	if a.failed != nil {
		if err := a.failed.Close(); err != nil {
			a.log.Error().Err(err).Msg("closing the failed events' store")
		}
	}
	for _, d := range a.destinations {
		if err := d.Close(); err != nil {
			a.log.Error().Err(err).Msg("closing a destination")
		}
	}
	if a.destSession != nil {
		a.destSession.Close()
	}
	if a.geoip != nil {
		_ = a.geoip.Close()
	}
	if a.Bus != nil {
		a.Bus.Close()
	}
	if a.emb != nil {
		a.emb.Shutdown()
	}
}

// SpoolSize reports the spool's bytes and records awaiting replay.
func (a *App) SpoolSize() (bytes, records int64) {
	if a.spool == nil {
		return 0, 0
	}
	return a.spool.Size()
}

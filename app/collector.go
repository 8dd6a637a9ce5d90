package app

import (
	"context"
	"fmt"
	"net"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/collector/spool"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/internal/secret"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/segment"
)

// collectorOptions picks the collector's options out of the configuration.
func collectorOptions(c config.Config, hashKey []byte) collector.Options {
	return collector.Options{
		HTTP: c.HTTP, Ack: c.Collector.Ack, AckTimeout: c.Collector.AckTimeout, MaxBatchEvents: c.Collector.MaxBatchEvents, MaxInflightBytes: c.Collector.MaxInflightBytes,
		MaxEventBytes: c.Collector.MaxEventBytes, HashKey: hashKey,
		Redirects:  links.Policy{Allowed: c.Collector.RedirectHosts, AppendFields: c.Links.AppendFields},
		RedirectTo: c.Collector.RedirectFallback, ServerTokens: c.Collector.ServerTokens, RetryAfterSec: c.Spool.RetryAfterSec,
		Partitions: c.NATS.Partitions,
		Segment:    segment.KeysFrom(c.Segment.WriteKeys, c.Segment.TrustedKeys),
		Links:      collector.LinkOptions{Prefix: c.Links.Prefix, Hosts: c.Links.Hosts, BaseURL: c.Links.BaseURL, UniqueWindow: c.Links.UniqueWindow},
	}
}

func (a *App) startCollector(runCtx context.Context) error {
	key, err := hashKey(a.cfg)
	if err != nil {
		return err
	}
	if a.spool, err = spool.Open(a.cfg.Spool.Dir, a.cfg.Spool.MaxBytes, a.cfg.Spool.SegmentBytes, a.log); err != nil {
		return err
	}
	a.Reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spoor_spool_bytes", Help: "Bytes in the disk spool."},
			func() float64 { b, _ := a.spool.Size(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spoor_spool_records", Help: "Messages (one or more events each) in the disk spool awaiting replay."},
			func() float64 { _, n := a.spool.Size(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spoor_spool_corrupt_segments", Help: "Damaged spool segments kept aside."},
			func() float64 { return float64(a.spool.Corrupt()) }),
	)
	opts := collectorOptions(a.cfg, key)
	opts.Blocked = a.block
	if opts.Plans, err = a.startPlans(runCtx); err != nil {
		return err
	}
	if opts.Redirects.Signer, err = links.NewSigner(a.cfg.Links.SigningKeys); err != nil {
		return fmt.Errorf("links.signing_keys: %w", err)
	}
	cache, store, err := a.startLinks(runCtx)
	if err != nil {
		return err
	}
	a.links = store
	opts.Links.Cache = cache
	if opts.Admin, err = a.adminSurface(key, opts.Redirects.Signer, cache, store, opts.Plans); err != nil {
		return err
	}
	if opts.Enrichment, err = enrichment(a.cfg); err != nil {
		return err
	}
	if opts.Enrichment.GeoIP != nil {
		a.geoip = opts.Enrichment.GeoIP
	}
	if a.coll, err = collector.New(opts, a.Bus, a.spool, a.Reg, a.Reg, a.log); err != nil {
		return err
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		every := a.cfg.Spool.ReplayRetry
		if a.cfg.Collector.Ack == collector.AckLocal {
			every = a.cfg.Collector.ForwardInterval // the replayer is the forwarder
		}
		a.coll.NewReplayer(a.spool, every).Run(runCtx)
	}()
	return nil
}

// serveCollector answers the collector's endpoints on http.addr.
func (a *App) serveCollector() (err error) {
	if a.ln, err = net.Listen("tcp", a.cfg.HTTP.Addr); err != nil {
		return fmt.Errorf("listening on %s: %w", a.cfg.HTTP.Addr, err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.coll.Serve(a.ln); err != nil {
			a.log.Error().Err(err).Msg("http server stopped")
		}
	}()
	return nil
}

// hashKey is collector.hash_key, or a random key kept in the data dir (a
// single machine; a cluster of collectors must share one configured key).
func hashKey(cfg config.Config) ([]byte, error) {
	if cfg.Collector.HashKey != "" {
		return []byte(cfg.Collector.HashKey), nil
	}
	k, err := secret.File(cfg.DataDir, "hash.key")
	return []byte(k), err
}

// enrichment opens what the collector's derived fields need (the GeoIP
// database) and parses the rest; the caller closes the returned reader.
func enrichment(cfg config.Config) (collector.Enrichment, error) {
	k := cfg.Collector
	en := collector.Enrichment{DropBots: k.DropBots}
	var err error
	if en.IPHandling, en.IPHandlingByApp, err = collector.ParseIPHandling(k.IPHandling, k.IPHandlingByApp); err != nil {
		return en, fmt.Errorf("collector.ip_handling: %w", err)
	}
	for _, c := range k.AppleRelayCIDRs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return en, fmt.Errorf("parsing collector.apple_relay_cidrs %q: %w", c, err)
		}
		en.AppleRelay = append(en.AppleRelay, n)
	}
	if k.GeoIPDB != "" {
		if en.GeoIP, err = maxminddb.Open(k.GeoIPDB); err != nil {
			return en, fmt.Errorf("opening collector.geoip_db %s: %w", k.GeoIPDB, err)
		}
	}
	return en, nil
}

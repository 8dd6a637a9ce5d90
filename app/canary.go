package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/spoor-dev/spoor/canary"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/schema"
)

// startCanary runs the canary (canary/; docs/quality.md#the-canary): in
// `spoor canary`, or inside `spoor run` with canary.enabled.
func (a *App) startCanary(ctx context.Context) error {
	k := a.cfg.Canary
	base := k.CollectorURL
	if base == "" {
		if a.coll == nil {
			return errors.New("spoor canary needs canary.collector_url: the collector it sends to")
		}
		base = "http://" + a.Addr()
	}
	eo := canary.EntryOptions{Collector: base, App: k.App, LinkSlug: k.LinkSlug, ProxyPath: k.ProxyPath, ProxyApp: a.cfg.Proxy.App}
	keys := make([]string, 0, len(a.cfg.Segment.WriteKeys))
	for key := range a.cfg.Segment.WriteKeys {
		keys = append(keys, key)
	}
	if sort.Strings(keys); len(keys) > 0 {
		eo.SegmentKey, eo.SegmentApp = keys[0], a.cfg.Segment.WriteKeys[keys[0]]
	}
	if signer, err := links.NewSigner(a.cfg.Links.SigningKeys); err == nil {
		eo.Signer = signer
	}
	switch {
	case k.ProxyURL != "":
		eo.Proxy = k.ProxyURL
	case a.proxy != nil && a.proxy.ln != nil:
		eo.Proxy = "http://" + a.ProxyAddr()
	}
	if err := a.canaryLink(ctx); err != nil {
		a.log.Warn().Err(err).Msg("canary: no short link of its own; the short link entry point is skipped")
		eo.LinkSlug = ""
	}
	var store canary.Store = &canary.Files{Dir: a.cfg.File.Dir}
	if a.cfg.SinkType() == "cassandra" {
		s, err := cassandraSession(a.cfg, a.log)
		if err != nil {
			return fmt.Errorf("canary: %w", err)
		}
		a.canarySession = s
		store = canary.Cassandra{Session: s, Keyspace: a.cfg.Cassandra.Keyspace}
	}
	var dests []string
	for _, d := range a.cfg.Destinations {
		dests = append(dests, d.Name)
	}
	c, err := canary.New(canary.Options{Entries: canary.Entries(eo), Interval: k.Interval, Timeout: k.Timeout, Store: store,
		Destinations: dests, Listen: a.Bus.Listen}, a.Reg, a.log.With().Str("role", "canary").Logger())
	if err != nil {
		return err
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_ = c.Run(a.runCtx)
	}()
	a.log.Info().Str("collector", base).Str("proxy", eo.Proxy).Dur("interval", k.Interval).Msg("canary running")
	return nil
}

// canaryLink makes sure the canary's short link exists.
func (a *App) canaryLink(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := a.links
	if s == nil { // spoor canary: no collector here
		var err error
		if s, err = a.openLinkStore(ctx); err != nil {
			return err
		}
	}
	k := a.cfg.Canary
	now := time.Now().UTC()
	err := s.Create(ctx, links.Link{Slug: k.LinkSlug, To: "https://example.com/", CreatedAt: now, UpdatedAt: now,
		Fields: map[string]string{"app": k.App, "ename": "canary_short_link"}})
	if errors.Is(err, links.ErrExists) {
		return nil
	}
	return err
}

// canarySeen tells the canary that a destination took one of its events.
func (a *App) canarySeen(destination string) func(e *schema.Event, outcome string) {
	return func(e *schema.Event, outcome string) {
		b, _ := json.Marshal(canary.Seen{Visitor: e.VisitorID, Destination: destination, Outcome: outcome, At: time.Now()})
		_ = a.Bus.Announce(canary.SeenSubject, b)
	}
}

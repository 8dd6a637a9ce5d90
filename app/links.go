package app

import (
	"context"
	"fmt"
	"time"

	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/links/cqlstore"
)

// linksBucket and linksSubject are where short links live on NATS: the
// key-value bucket (links.store: nats), and the change notices of the
// Cassandra store.
const (
	linksBucket  = "SPOOR_LINKS"
	linksSubject = "spoor.links.changed"
)

// startLinks gives the collector its short links: a cache over the
// configured store. The store opens in the background when NATS or
// Cassandra is not reachable yet (a collector comes up regardless);
// meanwhile short links answer 503 and the admin API "store_unavailable".
func (a *App) startLinks(runCtx context.Context) (*links.Cache, links.Store, error) {
	d := &links.Deferred{}
	cache := links.NewCache(d, a.cfg.Links.CacheSize, a.cfg.Links.CacheTTL, a.log)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := cache.Run(runCtx); err != nil {
			a.log.Error().Err(err).Msg("short links: watching the store")
		}
	}()
	open := func(ctx context.Context) error {
		s, err := a.openLinkStore(ctx)
		if err != nil {
			return err
		}
		return d.Set(s)
	}
	if a.emb != nil { // the embedded server is here: no reason to wait
		ctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
		defer cancel()
		return cache, d, open(ctx)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for runCtx.Err() == nil {
			err := open(runCtx)
			if err == nil {
				return
			}
			a.log.Warn().Err(err).Msg("short links: store not reachable yet, retrying")
			select {
			case <-runCtx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}()
	return cache, d, nil
}

func (a *App) openLinkStore(ctx context.Context) (links.Store, error) {
	if a.cfg.LinksStore() == "cassandra" {
		s, err := cassandraSession(a.cfg, a.log)
		if err != nil {
			return nil, fmt.Errorf("opening the short links' store: %w", err)
		}
		a.linkSession = s
		return cqlstore.New(s, a.cfg.Cassandra.Keyspace, a.Bus, linksSubject), nil
	}
	kv, err := a.Bus.KeyValue(ctx, linksBucket)
	if err != nil {
		return nil, err
	}
	return links.NewKV(kv), nil
}

package app

import (
	"context"
	"github.com/spoor-dev/spoor/loss"

	"github.com/spoor-dev/spoor/admin"
	"github.com/spoor-dev/spoor/internal/forwarded"
	"github.com/spoor-dev/spoor/internal/secret"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/live"
	"github.com/spoor-dev/spoor/plan"
)

// LocalTokenFile is the admin token `spoor run` keeps in its data dir for
// the commands run on the same machine (spoor tail, spoor link): whoever
// can read the data dir can read the events and the hash key already.
const LocalTokenFile = "admin.token"

// ReadLocalAdminToken reads the admin token `spoor run` keeps in dataDir.
func ReadLocalAdminToken(dataDir string) (string, error) {
	return secret.Read(dataDir, LocalTokenFile)
}

// adminSurface builds the operator surface the collector mounts at
// /admin: the configured admin tokens and the data dir's own, the short
// links' store, the signer, the forget endpoint and the live view.
func (a *App) adminSurface(hashKey []byte, signer *links.Signer, cache *links.Cache, store links.Store, plans *plan.Plans) (*admin.Admin, error) {
	local, err := secret.File(a.cfg.DataDir, LocalTokenFile)
	if err != nil {
		return nil, err
	}
	trusted, err := forwarded.Parse(a.cfg.HTTP.TrustedProxies)
	if err != nil {
		return nil, err
	}
	l := a.cfg.Links
	return admin.New(admin.Options{
		Tokens:  append(a.cfg.AdminTokens(), local),
		HashKey: hashKey, Trusted: trusted, Signer: signer,
		Links:  admin.Links{Cache: cache, Store: store, Prefix: l.Prefix, SlugLength: l.SlugLength, BaseURL: l.BaseURL},
		Forget: a.forgetOptions(),
		Live:   a.liveOptions(),
		Plans:  plans,
	}, a.log), nil
}

// liveOptions start the live view's hub on the bus (it subscribes only
// while someone watches).
func (a *App) liveOptions() admin.Live {
	lag := a.consumerBacklog
	return admin.Live{Hub: live.NewHub(a.Bus, a.log), Source: a.Bus, Gatherer: a.Reg, Connected: a.Bus.Connected,
		Lag: func(ctx context.Context) (uint64, error) { return lag(ctx, a.cfg.Sink.Consumer) },
		Loss: func(ctx context.Context) (map[string]loss.Counts, error) {
			kv, err := a.hoursBucket(ctx)
			if err != nil {
				return nil, err
			}
			return lossToday(ctx, kv)
		}, LossThreshold: a.cfg.Quality.LossThreshold,
		DestinationLag: func(ctx context.Context, name string) (uint64, error) {
			return lag(ctx, DestinationConsumer(name))
		}}
}

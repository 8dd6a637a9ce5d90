package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/loss"
	"github.com/spoor-dev/spoor/sinks"
)

// hoursKept is how long the loss counts per hour are kept.
const hoursKept = 35 * 24 * time.Hour

// lossMeter is the store sink's loss meter (loss/): a visitor's state is
// kept as long as its visitor id lives (http.vid_cookie_max_age).
func (a *App) lossMeter(ctx context.Context) (sinks.Observer, error) {
	if !a.cfg.Quality.LossMeter {
		return nil, nil
	}
	visitors, err := a.Bus.KeyValueTTL(ctx, loss.VisitorsBucket, a.cfg.HTTP.VIDCookieMaxAge)
	if err != nil {
		return nil, err
	}
	hours, err := a.Bus.KeyValueTTL(ctx, loss.HoursBucket, hoursKept)
	if err != nil {
		return nil, err
	}
	a.Reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spoor_quality_loss_threshold",
		Help: "quality.loss_threshold: the share of browser messages that may go missing (the SpoorClientLoss alert compares with it)."},
		func() float64 { return a.cfg.Quality.LossThreshold }))
	writer := make([]byte, 6)
	_, _ = rand.Read(writer)
	m, err := loss.NewMeter(visitors, hours, a.Bus.PutAll, hex.EncodeToString(writer), 100_000, a.Reg)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// LossToday is each app's loss counts of today (UTC), summed over every
// sink process: the dashboard's and `spoor quality loss`'s.
func LossToday(ctx context.Context, b *bus.Bus) (map[string]loss.Counts, error) {
	hours, err := b.KeyValueTTL(ctx, loss.HoursBucket, hoursKept)
	if err != nil {
		return nil, err
	}
	return lossToday(ctx, hours)
}

// lossToday reads them from the hours' bucket.
func lossToday(ctx context.Context, hours jetstream.KeyValue) (map[string]loss.Counts, error) {
	by, err := loss.Hours(ctx, hours, time.Now().UTC().Format("20060102"))
	if err != nil {
		return nil, err
	}
	out := map[string]loss.Counts{}
	for app, h := range by {
		out[app] = loss.Total(h)
	}
	return out, nil
}

// hoursBucket opens the loss counts' bucket once, for the dashboard.
func (a *App) hoursBucket(ctx context.Context) (jetstream.KeyValue, error) {
	a.lossMu.Lock()
	defer a.lossMu.Unlock()
	if a.lossKV == nil {
		kv, err := a.Bus.KeyValueTTL(ctx, loss.HoursBucket, hoursKept)
		if err != nil {
			return nil, err
		}
		a.lossKV = kv
	}
	return a.lossKV, nil
}

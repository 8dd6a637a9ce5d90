package loss

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Hours sums every sink process's counts per app and hour ("2006010215")
// for the hours that start with prefix ("20261204" is a day; "" all kept).
func Hours(ctx context.Context, hours jetstream.KeyValue, prefix string) (map[string]map[string]Counts, error) {
	lister, err := hours.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return map[string]map[string]Counts{}, nil
		}
		return nil, fmt.Errorf("listing the loss counts: %w", err)
	}
	out := map[string]map[string]Counts{}
	for k := range lister.Keys() {
		hour, _, _ := strings.Cut(k, ".")
		if !strings.HasPrefix(hour, prefix) {
			continue
		}
		e, err := hours.Get(ctx, k)
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			return nil, fmt.Errorf("reading the loss counts: %w", err)
		}
		var byApp map[string]Counts
		if err := json.Unmarshal(e.Value(), &byApp); err != nil {
			continue
		}
		for app, c := range byApp {
			if out[app] == nil {
				out[app] = map[string]Counts{}
			}
			sum := out[app][hour]
			sum.add(c)
			out[app][hour] = sum
		}
	}
	return out, nil
}

// Total sums an app's hours.
func Total(hours map[string]Counts) Counts {
	var t Counts
	for _, c := range hours {
		t.add(c)
	}
	return t
}

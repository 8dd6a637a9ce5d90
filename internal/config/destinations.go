package config

import (
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Destination is one entry of destinations: a place every matching event
// is sent to after it is made durable, by its own sink worker on its own
// durable consumer (sinks/, docs/destinations.md).
type Destination struct {
	Name string `mapstructure:"name"` // [a-z0-9_-], unique: the consumer is spoor-dest-<name>
	Type string `mapstructure:"type"` // webhook, …: sinks.Register's names
	// Filter picks the events that go; an event it does not pick is
	// counted and acknowledged, never sent.
	Filter DestinationFilter `mapstructure:"filter"`
	// Consent is the consent category the destination needs: an event
	// goes only when it carries that category granted. "": none needed.
	Consent string `mapstructure:"consent"`
	// RetryWindow is how long an event is retried (timeouts, 5xx, 429)
	// before it is dead-lettered with the last answer. 0: 3h.
	RetryWindow time.Duration `mapstructure:"retry_window"`
	// BatchSize is the events one delivery carries at most; 0: the type's
	// own default.
	BatchSize int `mapstructure:"batch_size"`
	// MinBackoff and MaxBackoff bound the retry delays (0: 10 s and 5 min).
	MinBackoff time.Duration `mapstructure:"min_backoff"`
	MaxBackoff time.Duration `mapstructure:"max_backoff"`
	// Settings are the type's own keys, checked strictly by the type at
	// start-up (unknown keys are an error there too).
	Settings map[string]any `mapstructure:",remain"`
}

// DestinationFilter picks events by app, event name (globs: "Order *"),
// endpoint; machine traffic is left out unless ExcludeBots is false.
type DestinationFilter struct {
	Apps        []string `mapstructure:"apps"`
	Events      []string `mapstructure:"events"`
	Endpoints   []string `mapstructure:"endpoints"`
	ExcludeBots *bool    `mapstructure:"exclude_bots"` // nil: true
	// IncludeCanary sends the canary's events too (spoor canary; off:
	// they are left out, and the canary sees the destination take them).
	IncludeCanary bool `mapstructure:"include_canary"`
}

// DefaultRetryWindow is a destination's retry_window unless set.
const DefaultRetryWindow = 3 * time.Hour

var destinationName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

func (c *Config) validateDestinations(bad func(key, format string, a ...any)) {
	seen := map[string]bool{}
	for i, d := range c.Destinations {
		key := fmt.Sprintf("destinations[%d]", i)
		if !destinationName.MatchString(d.Name) {
			bad(key+".name", "must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit, got %q", d.Name)
		}
		if seen[d.Name] {
			bad(key+".name", "%q is the name of another destination", d.Name)
		}
		seen[d.Name] = true
		if d.Type == "" {
			bad(key+".type", "is missing")
		}
		if d.RetryWindow < 0 || d.RetryWindow > 7*24*time.Hour {
			bad(key+".retry_window", "must be 0 (3h) to 168h, got %v", d.RetryWindow)
		}
		if d.MinBackoff < 0 || d.MaxBackoff < 0 || d.MaxBackoff > 0 && d.MaxBackoff < d.MinBackoff {
			bad(key+".min_backoff", "min_backoff and max_backoff must be 0 (10s and 5m) or positive, min below max")
		}
		if d.BatchSize < 0 {
			bad(key+".batch_size", "must be 0 (the type's default) or more, got %d", d.BatchSize)
		}
		for _, g := range d.Filter.Events {
			if _, err := path.Match(g, ""); err != nil {
				bad(key+".filter.events", "%q is no glob: %v", g, err)
			}
		}
		if d.Consent != "" && strings.TrimSpace(d.Consent) != d.Consent {
			bad(key+".consent", "%q has spaces around it", d.Consent)
		}
	}
}

// stringToDestinations reads destinations from an environment variable:
// a JSON array, as config.json spells it.
func stringToDestinations(f, t reflect.Type, data any) (any, error) {
	if f.Kind() != reflect.String || t != reflect.TypeOf([]Destination(nil)) {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return []any{}, nil
	}
	var out []any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("SPOOR_DESTINATIONS must be a JSON array of destinations: %w", err)
	}
	return out, nil
}

// destinationSecret reports whether a destination setting holds a secret
// that spoor config prints as <redacted>.
func destinationSecret(key string) bool {
	for _, s := range []string{"secret", "password", "token", "api_key", "access_key"} {
		if strings.Contains(key, s) {
			return true
		}
	}
	return false
}

// destinationsTree is destinations as config.json spells them, secrets in
// their settings redacted.
func destinationsTree(ds []Destination) []map[string]any {
	out := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		f := map[string]any{"apps": d.Filter.Apps, "events": d.Filter.Events, "endpoints": d.Filter.Endpoints}
		if d.Filter.ExcludeBots != nil {
			f["exclude_bots"] = *d.Filter.ExcludeBots
		}
		if d.Filter.IncludeCanary {
			f["include_canary"] = true
		}
		m := map[string]any{"name": d.Name, "type": d.Type, "filter": f, "consent": d.Consent,
			"retry_window": d.RetryWindow.String(), "batch_size": d.BatchSize,
			"min_backoff": d.MinBackoff.String(), "max_backoff": d.MaxBackoff.String()}
		for k, v := range d.Settings {
			if destinationSecret(k) {
				v = "<redacted>"
			}
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}

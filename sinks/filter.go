package sinks

import (
	"encoding/json"
	"path"

	"github.com/spoor-dev/spoor/schema"
)

// Filter picks the events a destination may receive (DeliveryOptions.Keep).
type Filter struct {
	Apps      []string // empty: every app
	Events    []string // event-name globs (path.Match); empty: every event
	Endpoints []string // empty: every endpoint
	// KeepBots lets machine traffic through (filter.exclude_bots: false).
	KeepBots bool
	// KeepCanary lets the canary's events through (filter.include_canary).
	KeepCanary bool
	// Consent is the category an event must carry granted (its "consent"
	// prop, {"category": true}, from Segment's
	// context.consent.categoryPreferences or the browser SDK); "": none.
	Consent string
}

// Keep reports whether e goes, or the reason it does not: "canary",
// "bot", "filter" or "consent".
func (f *Filter) Keep(e *schema.Event) (bool, string) {
	switch {
	case !f.KeepCanary && e.IsCanary():
		return false, "canary"
	case !f.KeepBots && e.Bot != nil && *e.Bot:
		return false, "bot"
	case len(f.Apps) > 0 && !contains(f.Apps, e.App),
		len(f.Endpoints) > 0 && !contains(f.Endpoints, e.Endpoint),
		len(f.Events) > 0 && !matchAny(f.Events, e.EventName):
		return false, "filter"
	case f.Consent != "" && !Consented(e, f.Consent):
		return false, "consent"
	}
	return true, ""
}

// Consented reports whether e carries category granted in its consent.
func Consented(e *schema.Event, category string) bool {
	raw, ok := e.Props["consent"]
	if !ok {
		return false
	}
	var prefs map[string]bool
	if json.Unmarshal(raw, &prefs) != nil {
		return false
	}
	return prefs[category]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

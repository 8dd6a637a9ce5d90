package demo

import (
	"encoding/json"
	"math"
	"sort"
)

// Truth is what the simulation generated, in the terms analyses answer in.
// Counts of browser events are of those that reached the collector (a lost
// message is in no store); Loss says how many were lost. Days are the
// events' client-time days (UTC).
type Truth struct {
	Seed     uint64   `json:"seed"`
	App      string   `json:"app"`
	Visitors int      `json:"visitors"`
	Days     []string `json:"days"`    // the simulated days
	SentOn   []string `json:"sent_on"` // the days the collector received the events on (the events_by_day partitions)
	Drop     float64  `json:"drop"`
	BotShare float64  `json:"bot_share_set"`

	Events        int64            `json:"events"` // stored: every event the collector answered
	EventsByName  map[string]int64 `json:"events_by_name"`
	EventsByDay   map[string]int64 `json:"events_by_day"`
	Humans        int              `json:"humans"`
	Bots          int              `json:"bots"`
	BotEvents     int64            `json:"bot_events"`
	BotEventShare float64          `json:"bot_event_share"` // bot events / events

	Orders       map[string]int64            `json:"orders_by_day"`
	ItemsSold    map[string]int64            `json:"items_sold_by_day"`
	RevenueCents map[string]map[string]int64 `json:"revenue_cents_by_day"` // day -> currency -> cents
	Products     map[string]int64            `json:"products_bought"`      // sku -> units
	Clicks       map[string]int64            `json:"clicks"`               // element -> human clicks that arrived

	Sessions   map[string]int64 `json:"sessions_by_source"`   // campaign key of the session's first event that arrived
	Converting map[string]int64 `json:"converting_by_source"` // of those, sessions with a purchase

	Experiment struct {
		ID        string           `json:"id"`
		BaseConv  float64          `json:"base_conversion"`
		Lift      float64          `json:"lift"`      // B = A × (1 + lift), as set
		TrueDiff  float64          `json:"true_diff"` // pB - pA as set
		Exposed   map[string]int64 `json:"exposed"`   // visitors at checkout, as generated
		Observed  map[string]int64 `json:"observed"`  // ... of whom an analysis sees the exposure or the purchase
		Converted map[string]int64 `json:"converted"` // purchases
	} `json:"experiment"`

	Form struct {
		FirstField   map[string]int64 `json:"first_field"`   // first field focused, per checkout (what arrived)
		AbandonField map[string]int64 `json:"abandon_field"` // field at abandonment (what arrived)
		Abandoned    int64            `json:"abandoned"`     // checkouts abandoned, as generated
	} `json:"form"`

	Loss struct {
		Generated       map[string]int64   `json:"generated"`        // browser messages made, by day
		Dropped         map[string]int64   `json:"dropped"`          // ... of them lost
		VisibleExpected map[string]int64   `json:"visible_expected"` // messages up to the last that arrived (what gaps can show)
		VisibleLost     map[string]int64   `json:"visible_lost"`     // ... of them missing: the gaps
		TruePct         map[string]float64 `json:"true_pct"`
		VisiblePct      map[string]float64 `json:"visible_pct"`
	} `json:"loss"`

	Email struct {
		Opens  map[string]int64 `json:"opens"`
		Clicks map[string]int64 `json:"clicks"`
	} `json:"email"`

	// Identity: the visitors who signed up (a user id, at their first
	// purchase), and every event of theirs that arrived, before and after
	// sign-up: what the identity links must join back to them.
	Identity struct {
		People int   `json:"people"`
		Events int64 `json:"events"`
	} `json:"identity"`
}

func newTruth() *Truth {
	t := &Truth{EventsByName: map[string]int64{}, EventsByDay: map[string]int64{}, Orders: map[string]int64{}, ItemsSold: map[string]int64{},
		RevenueCents: map[string]map[string]int64{}, Products: map[string]int64{}, Clicks: map[string]int64{},
		Sessions: map[string]int64{}, Converting: map[string]int64{}}
	t.Experiment.Exposed, t.Experiment.Observed, t.Experiment.Converted = map[string]int64{}, map[string]int64{}, map[string]int64{}
	t.Form.FirstField, t.Form.AbandonField = map[string]int64{}, map[string]int64{}
	t.Loss.Generated, t.Loss.Dropped, t.Loss.VisibleExpected, t.Loss.VisibleLost = map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	t.Email.Opens, t.Email.Clicks = map[string]int64{}, map[string]int64{}
	return t
}

// add merges one visitor's truth into t.
func (t *Truth) add(o *Truth) {
	t.Events += o.Events
	t.Humans += o.Humans
	t.Bots += o.Bots
	t.BotEvents += o.BotEvents
	for _, p := range []struct{ dst, src map[string]int64 }{
		{t.EventsByName, o.EventsByName}, {t.EventsByDay, o.EventsByDay}, {t.Orders, o.Orders}, {t.ItemsSold, o.ItemsSold},
		{t.Products, o.Products}, {t.Clicks, o.Clicks}, {t.Sessions, o.Sessions}, {t.Converting, o.Converting},
		{t.Experiment.Exposed, o.Experiment.Exposed}, {t.Experiment.Observed, o.Experiment.Observed}, {t.Experiment.Converted, o.Experiment.Converted},
		{t.Form.FirstField, o.Form.FirstField}, {t.Form.AbandonField, o.Form.AbandonField},
		{t.Loss.Generated, o.Loss.Generated}, {t.Loss.Dropped, o.Loss.Dropped}, {t.Loss.VisibleExpected, o.Loss.VisibleExpected},
		{t.Loss.VisibleLost, o.Loss.VisibleLost}, {t.Email.Opens, o.Email.Opens}, {t.Email.Clicks, o.Email.Clicks},
	} {
		for k, v := range p.src {
			p.dst[k] += v
		}
	}
	t.Form.Abandoned += o.Form.Abandoned
	t.Identity.People += o.Identity.People
	t.Identity.Events += o.Identity.Events
	for d, cur := range o.RevenueCents {
		if t.RevenueCents[d] == nil {
			t.RevenueCents[d] = map[string]int64{}
		}
		for c, v := range cur {
			t.RevenueCents[d][c] += v
		}
	}
}

// finish computes the shares.
func (t *Truth) finish(o Options) {
	t.Seed, t.App, t.Visitors, t.Drop, t.BotShare = o.Seed, o.App, o.Visitors, o.Drop, o.BotShare
	for d := 0; d < o.Days; d++ {
		t.Days = append(t.Days, day(o.Start.AddDate(0, 0, d)))
	}
	if t.Events > 0 {
		t.BotEventShare = float64(t.BotEvents) / float64(t.Events)
	}
	t.Experiment.ID, t.Experiment.BaseConv, t.Experiment.Lift = "checkout_v2", o.BaseConv, o.Lift
	t.Experiment.TrueDiff = o.BaseConv * o.Lift
	t.Loss.TruePct, t.Loss.VisiblePct = map[string]float64{}, map[string]float64{}
	for d, n := range t.Loss.Generated {
		t.Loss.TruePct[d] = pct(t.Loss.Dropped[d], n)
	}
	for d, n := range t.Loss.VisibleExpected {
		t.Loss.VisiblePct[d] = pct(t.Loss.VisibleLost[d], n)
	}
	sort.Strings(t.SentOn)
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1e6) / 1e4 // percent, 4 decimals
}

// jsonOf encodes v (maps encode with sorted keys: the same seed gives the
// same bytes).
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values reach here
	}
	return string(b)
}

// Package schema holds spoor's one canonical Event, the dictionary of fields the
// collector accepts (short wire names from the seed Tracker, long names used
// in storage), the parsers for every wire format, and validation.
package schema

import (
	"encoding/json"
	"time"
)

// Event is the canonical form of one tracked event. The collector builds it
// from whatever wire format arrived, the bus carries its JSON encoding, and
// every sink stores exactly these fields.
//
// Strings are empty when absent; numeric and boolean fields are pointers so
// that zero is distinguishable from absent. Props holds every field that is
// not in the dictionary, as the raw JSON the client sent: numbers stay
// numbers, strings stay strings, case is preserved.
type Event struct {
	// Server-assigned.
	EventID    string    `json:"event_id"`
	ReceivedAt time.Time `json:"received_at"`
	Endpoint   string    `json:"endpoint,omitempty"`
	IPHash     string    `json:"ip_hash,omitempty"`
	IPPrefix   string    `json:"ip_prefix,omitempty"` // the /24 or /48 kept instead (collector.ip_handling: truncate)
	UserAgent  string    `json:"user_agent,omitempty"`
	// Bot is true for machine traffic (crawlers, headless browsers, header
	// signals; internal/bots) with BotFamily naming it; flagged, not dropped.
	Bot       *bool  `json:"bot,omitempty"`
	BotFamily string `json:"bot_family,omitempty"`
	// OpenVia marks an e-mail open fetched by a mail provider's proxy:
	// "apple_mpp" (a prefetch, not a person) or "gmail_proxy" (a real open).
	OpenVia string `json:"open_via,omitempty"`
	// GeoCountry (ISO 3166-1 alpha-2) and GeoCity, from the client's address
	// before it was hashed, truncated or dropped (collector.geoip_db).
	GeoCountry string `json:"geo_country,omitempty"`
	GeoCity    string `json:"geo_city,omitempty"`
	// Link is the short link (its slug) a click or an orphan visit came
	// through (links/); QR is true when it was a scan of its QR code.
	Link string `json:"link,omitempty"`
	QR   *bool  `json:"qr,omitempty"`
	// Unique is set on clicks and opens (/l/, /rdr/v1/, /img/v1/): true for
	// the first of its visitor, or address, on that link within
	// links.unique_window.
	Unique *bool `json:"unique,omitempty"`
	// Canary is true for the events `spoor canary` sends through every
	// entry point (the X-Spoor-Canary header): stored like any other, left
	// out by the analytics answers, the dashboard's rates and (unless a
	// destination's filter.include_canary) the destinations.
	Canary *bool `json:"canary,omitempty"`

	// Identity.
	VisitorID string `json:"visitor_id,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	DeviceID  string `json:"device_id,omitempty"`
	EmailHash string `json:"email_hash,omitempty"`
	CellHash  string `json:"cell_hash,omitempty"`
	UnameHash string `json:"uname_hash,omitempty"`

	// Event.
	EventName      string     `json:"event_name,omitempty"`
	EventType      string     `json:"event_type,omitempty"`
	ClientTime     *time.Time `json:"client_time,omitempty"`
	Duration       *int64     `json:"duration,omitempty"`
	First          *bool      `json:"first,omitempty"`
	ClientIndex    *int64     `json:"client_index,omitempty"`
	LibraryVersion string     `json:"library_version,omitempty"`

	// Page and device.
	URL              string          `json:"url,omitempty"`
	Referrer         string          `json:"referrer,omitempty"`
	PageType         string          `json:"page_type,omitempty"`
	PageViewID       string          `json:"page_view_id,omitempty"`
	ParentPageViewID string          `json:"parent_page_view_id,omitempty"`
	App              string          `json:"app,omitempty"`
	Release          json.RawMessage `json:"release,omitempty"`
	Timezone         string          `json:"timezone,omitempty"`
	Language         string          `json:"language,omitempty"`
	Width            *int64          `json:"width,omitempty"`
	Height           *int64          `json:"height,omitempty"`
	Device           string          `json:"device,omitempty"`
	OS               string          `json:"os,omitempty"`
	Lat              *float64        `json:"lat,omitempty"`
	Lon              *float64        `json:"lon,omitempty"`
	Country          string          `json:"country,omitempty"`

	// Campaign and referral.
	Source       string `json:"source,omitempty"`
	Medium       string `json:"medium,omitempty"`
	Campaign     string `json:"campaign,omitempty"`
	Term         string `json:"term,omitempty"`
	Content      string `json:"content,omitempty"`
	Referral     string `json:"referral,omitempty"`
	ReferralCode string `json:"referral_code,omitempty"`
	Affiliate    string `json:"affiliate,omitempty"`

	// Experiments and growth.
	ExperimentID string   `json:"experiment_id,omitempty"`
	Variant      string   `json:"variant,omitempty"`
	Goal         string   `json:"goal,omitempty"`
	Score        *float64 `json:"score,omitempty"`
	Outcome      string   `json:"outcome,omitempty"`

	// Props holds every field outside the dictionary, as sent.
	Props map[string]json.RawMessage `json:"props,omitempty"`

	// Raw is the canonical encoding this event was decoded from (set by
	// Decode), so a sink that stores JSON need not encode it again.
	Raw []byte `json:"-"`
}

// PartitionKey is what places an event in a bus partition: its visitor, so
// one visitor's events stay together and in order, or its event id when it
// has none.
func (e *Event) PartitionKey() string {
	if e.VisitorID != "" {
		return e.VisitorID
	}
	return e.EventID
}

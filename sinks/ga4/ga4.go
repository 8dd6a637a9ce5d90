// Package ga4 is the Google Analytics 4 destination: events sent with the
// Measurement Protocol, page views and Segment's e-commerce spec mapped to
// GA4's recommended events (docs/destinations.md, "GA4": the table).
//
// The Measurement Protocol answers 2xx to anything, valid or not, so
// every documented limit is checked here before sending: an event that
// breaks one is refused (dead-lettered) with the rule it breaks.
package ga4

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
)

// Settings are the GA4 destination's keys.
type Settings struct {
	MeasurementID string `mapstructure:"measurement_id"` // G-…
	APISecret     string `mapstructure:"api_secret"`
	// Endpoint is the collect URL (a region's, or a test receiver).
	Endpoint string        `mapstructure:"endpoint"`
	Timeout  time.Duration `mapstructure:"timeout"` // 0: 10 s
	// Currency is an e-commerce event's currency when it has none (ISO
	// 4217, "EUR"); "": such an event's value is left out (GA4 takes a
	// value only with a currency).
	Currency string `mapstructure:"currency"`
	// ConsentAdUserData and ConsentAdPersonalization name the consent
	// categories that grant GA4's ad_user_data and ad_personalization;
	// "": the field is not sent.
	ConsentAdUserData        string `mapstructure:"consent_ad_user_data"`
	ConsentAdPersonalization string `mapstructure:"consent_ad_personalization"`
}

// The Measurement Protocol's limits (developers.google.com/analytics/
// devguides/collection/protocol/ga4/sending-events, "Limitations").
const (
	maxEventsPerRequest = 25
	maxParams           = 25
	maxUserProps        = 25
	maxNameLen          = 40
	maxUserPropNameLen  = 24
	maxParamValueLen    = 100
	maxUserPropValueLen = 36
	maxItems            = 200
	maxItemCustomParams = 10
	maxBodyBytes        = 130_000
	maxAge              = 72 * time.Hour
)

const defaultEndpoint = "https://www.google-analytics.com/mp/collect"

var measurementID = regexp.MustCompile(`^G-[A-Z0-9]{4,20}$`)

func init() {
	sinks.Register("ga4", sinks.Type{New: New, Sample: `{"name": "ga", "type": "ga4", "measurement_id": "G-XXXXXXXXXX",
  "api_secret": "<from GA4: Admin, Data streams, Measurement Protocol API secrets>", "consent": "Analytics",
  "consent_ad_user_data": "Advertising", "consent_ad_personalization": "Advertising"}`})
}

// GA4 sends to one GA4 property's data stream.
type GA4 struct {
	name   string
	s      Settings
	client *http.Client
	log    zerolog.Logger
	now    func() time.Time
}

var _ sinks.Sink = (*GA4)(nil)

// New checks the settings and builds the destination (no I/O).
func New(d sinks.Destination) (sinks.Sink, error) {
	var s Settings
	if err := sinks.DecodeSettings(d.Settings, &s); err != nil {
		return nil, err
	}
	if !measurementID.MatchString(s.MeasurementID) {
		return nil, fmt.Errorf("measurement_id must be a GA4 web stream's id (G-…), got %q", s.MeasurementID)
	}
	if s.APISecret == "" {
		return nil, fmt.Errorf("api_secret is missing")
	}
	if s.Endpoint == "" {
		s.Endpoint = defaultEndpoint
	}
	if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint must be an http:// or https:// URL, got %q", s.Endpoint)
	}
	if s.Currency != "" && (len(s.Currency) != 3 || strings.ToUpper(s.Currency) != s.Currency) {
		return nil, fmt.Errorf("currency must be an ISO 4217 code such as EUR, got %q", s.Currency)
	}
	if s.Timeout <= 0 {
		s.Timeout = 10 * time.Second
	}
	return &GA4{name: d.Name, s: s, client: &http.Client{Timeout: s.Timeout}, log: d.Log, now: time.Now}, nil
}

// Open does nothing: the protocol keeps no connection.
func (g *GA4) Open(context.Context) error { return nil }

// Close releases idle connections.
func (g *GA4) Close() error { g.client.CloseIdleConnections(); return nil }

// Write maps each event, refuses those that break a rule, and sends the
// rest grouped by client (a request has one client_id and user_id) in
// requests of at most 25 events, each client's events in their order:
// interleaved visitors cost one request per client and 25 events, not one
// per event. Once a request fails for a reason a retry may fix, the later
// ones are not sent.
func (g *GA4) Write(ctx context.Context, events []*schema.Event) error {
	errs := make([]error, len(events))
	now := g.now()
	type group struct {
		key  [2]string
		idx  []int
		maps []mapped
	}
	var groups []*group
	byKey := map[[2]string]*group{}
	for i, e := range events {
		m, err := mapEvent(e, now, g.s)
		if err != nil {
			errs[i] = refused(err)
			continue
		}
		k := [2]string{m.clientID, m.userID}
		gr := byKey[k]
		if gr == nil {
			gr = &group{key: k}
			byKey[k] = gr
			groups = append(groups, gr)
		}
		gr.idx = append(gr.idx, i)
		gr.maps = append(gr.maps, m)
	}
	var stop error
	for _, gr := range groups {
		for from := 0; from < len(gr.idx); from += maxEventsPerRequest {
			to := min(from+maxEventsPerRequest, len(gr.idx))
			if stop != nil {
				for _, i := range gr.idx[from:to] {
					errs[i] = stop
				}
				continue
			}
			first := gr.maps[from]
			req := request{ClientID: first.clientID, UserID: first.userID, Consent: first.consent, TimestampMicros: first.micros}
			for _, m := range gr.maps[from:to] {
				if len(m.userProps) > 0 {
					if req.UserProperties == nil {
						req.UserProperties = map[string]userProp{}
					}
					for k, v := range m.userProps {
						req.UserProperties[k] = v
					}
				}
				req.Events = append(req.Events, m.event)
			}
			err := g.send(ctx, req)
			for _, i := range gr.idx[from:to] {
				errs[i] = err
			}
			if err != nil && !isPermanent(err) {
				stop = err
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return &sinks.BatchError{Errs: errs}
		}
	}
	return nil
}

func isPermanent(err error) bool {
	de, ok := err.(*sinks.DeliveryError)
	return ok && de.Permanent
}

// refused is an event that breaks one of GA4's rules.
func refused(err error) error {
	return &sinks.DeliveryError{Permanent: true, Err: fmt.Errorf("GA4 rule: %w", err)}
}

// send posts one request; the body's own size is a rule too.
func (g *GA4) send(ctx context.Context, r request) error {
	body, err := r.marshal()
	if err != nil {
		return refused(err)
	}
	if len(body) >= maxBodyBytes {
		return refused(fmt.Errorf("a request is %d bytes; GA4 takes less than %d", len(body), maxBodyBytes))
	}
	u := g.s.Endpoint + "?measurement_id=" + url.QueryEscape(g.s.MeasurementID) + "&api_secret=" + url.QueryEscape(g.s.APISecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return refused(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "spoor-ga4/1")
	resp, err := g.client.Do(req)
	if err != nil {
		// The URL carries the secret: say where without it.
		return sinks.HTTPResult(0, nil, "", fmt.Errorf("posting to %s: %w", g.s.Endpoint, unwrapURL(err)), g.now())
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return sinks.HTTPResult(resp.StatusCode, answer, resp.Header.Get("Retry-After"), nil, g.now())
}

// unwrapURL drops *url.Error's URL, which holds the api_secret.
func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

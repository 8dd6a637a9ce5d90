package ga4

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// request is one Measurement Protocol body.
type request struct {
	ClientID        string              `json:"client_id"`
	UserID          string              `json:"user_id,omitempty"`
	TimestampMicros int64               `json:"timestamp_micros,omitempty"`
	UserProperties  map[string]userProp `json:"user_properties,omitempty"`
	Consent         *consent            `json:"consent,omitempty"`
	Events          []event             `json:"events"`
}

type userProp struct {
	Value any `json:"value"`
}

type consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

type event struct {
	Name            string         `json:"name"`
	Params          map[string]any `json:"params,omitempty"`
	TimestampMicros int64          `json:"timestamp_micros,omitempty"`
}

func (r request) marshal() ([]byte, error) { return json.Marshal(r) }

// mapped is one spoor event as GA4 takes it.
type mapped struct {
	clientID, userID string
	micros           int64
	event            event
	userProps        map[string]userProp
	consent          *consent
}

// ecommerce are Segment's e-commerce v2 events and GA4's recommended
// events for them.
var ecommerce = map[string]string{
	"Product Viewed":            "view_item",
	"Product Added":             "add_to_cart",
	"Product Removed":           "remove_from_cart",
	"Cart Viewed":               "view_cart",
	"Checkout Started":          "begin_checkout",
	"Payment Info Entered":      "add_payment_info",
	"Order Completed":           "purchase",
	"Order Refunded":            "refund",
	"Products Searched":         "search",
	"Product List Viewed":       "view_item_list",
	"Product Clicked":           "select_item",
	"Promotion Viewed":          "view_promotion",
	"Promotion Clicked":         "select_promotion",
	"Product Added to Wishlist": "add_to_wishlist",
	"Signed Up":                 "sign_up",
	"Signed In":                 "login",
}

// reservedNames may not be sent (developers.google.com/analytics/devguides/
// collection/protocol/ga4/reference, "Reserved event names").
var reservedNames = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_query": true, "ad_reward": true, "adunit_exposure": true,
	"app_background": true, "app_clear_data": true, "app_exception": true, "app_remove": true, "app_store_refund": true,
	"app_store_subscription_cancel": true, "app_store_subscription_convert": true, "app_store_subscription_renew": true,
	"app_update": true, "app_upgrade": true, "dynamic_link_app_open": true, "dynamic_link_app_update": true,
	"dynamic_link_first_open": true, "error": true, "first_open": true, "first_visit": true, "in_app_purchase": true,
	"notification_dismiss": true, "notification_foreground": true, "notification_open": true, "notification_receive": true,
	"os_update": true, "session_start": true, "user_engagement": true,
}

// reservedPrefixes may not begin a parameter's or user property's name.
var reservedPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

var validName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// checkName applies GA4's naming rules to an event name, a parameter's or
// a user property's.
func checkName(kind, name string, max int, prefixes bool) error {
	switch {
	case len(name) > max:
		return fmt.Errorf("%s name %q is %d characters; the limit is %d", kind, name, len(name), max)
	case !validName.MatchString(name):
		return fmt.Errorf("%s name %q must start with a letter and hold only letters, digits and _", kind, name)
	}
	if prefixes {
		for _, p := range reservedPrefixes {
			if strings.HasPrefix(strings.ToLower(name), p) {
				return fmt.Errorf("%s name %q starts with the reserved prefix %q", kind, name, p)
			}
		}
	}
	return nil
}

// eventName is the GA4 name of e: a page view's, an e-commerce event's,
// else its own name written as GA4 names are ("Video Played" →
// video_played).
func eventName(e *schema.Event) (string, error) {
	if n, ok := ecommerce[e.EventName]; ok {
		return n, nil
	}
	if e.EventType == "page" || e.EventName == "page_view" {
		return "page_view", nil
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(e.EventName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r == ' ' || r == '-' || r == '.':
			b.WriteByte('_')
		default:
			return "", fmt.Errorf("event name %q holds %q, which GA4 names cannot", e.EventName, r)
		}
	}
	n := b.String()
	if reservedNames[n] {
		return "", fmt.Errorf("event name %q is reserved by GA4", n)
	}
	return n, checkName("event", n, maxNameLen, false)
}

// mapEvent maps e, or says which rule it breaks.
func mapEvent(e *schema.Event, now time.Time, s Settings) (mapped, error) {
	var m mapped
	switch {
	case e.VisitorID != "":
		m.clientID = e.VisitorID
	case e.UserID != "":
		m.clientID = "u." + e.UserID // a server's event: GA4 needs a client id; the user's stands in
	default:
		return m, fmt.Errorf("the event has no visitor id, so no client_id")
	}
	if len(e.UserID) > 256 {
		return m, fmt.Errorf("user_id is %d characters; the limit is 256", len(e.UserID))
	}
	m.userID = e.UserID
	at := e.ReceivedAt
	if e.ClientTime != nil && e.ClientTime.Before(e.ReceivedAt) {
		at = *e.ClientTime
	}
	if now.Sub(at) > maxAge {
		return m, fmt.Errorf("the event is from %s, more than the 72 hours GA4 takes back", at.UTC().Format(time.RFC3339))
	}
	m.micros = at.UnixMicro()
	name, err := eventName(e)
	if err != nil {
		return m, err
	}
	params := map[string]any{"event_id": e.EventID, "engagement_time_msec": int64(1)}
	if e.Duration != nil && *e.Duration > 0 {
		params["engagement_time_msec"] = *e.Duration
	}
	if e.SessionID != "" {
		params["session_id"] = sessionNumber(e.SessionID)
	}
	set := func(k, v string) {
		if v != "" {
			params[k] = v
		}
	}
	set("page_location", e.URL)
	set("page_referrer", e.Referrer)
	set("campaign", e.Campaign)
	set("source", e.Source)
	set("medium", e.Medium)
	set("term", e.Term)
	set("content", e.Content)
	props := decodeProps(e.Props)
	if _, ok := ecommerce[e.EventName]; ok {
		if err := ecommerceParams(e.EventName, props, params, s.Currency); err != nil {
			return m, err
		}
	} else if e.EventName != "identify" {
		for k, v := range props {
			if schema.MessageProps[k] || k == "consent" {
				continue
			}
			if s, ok := scalar(v); ok {
				params[k] = s
			}
		}
	}
	if e.EventName == "identify" || e.EventType == "identify" {
		m.userProps = map[string]userProp{}
		for k, v := range props {
			if schema.MessageProps[k] || k == "consent" {
				continue
			}
			if s, ok := scalar(v); ok {
				m.userProps[k] = userProp{Value: s}
			}
		}
	}
	if err := checkParams(params); err != nil {
		return m, err
	}
	if err := checkUserProps(m.userProps); err != nil {
		return m, err
	}
	m.event = event{Name: name, Params: params, TimestampMicros: m.micros}
	if s.ConsentAdUserData != "" || s.ConsentAdPersonalization != "" {
		granted := func(cat string) string {
			if cat == "" {
				return ""
			}
			if prefs, ok := props["consent"].(map[string]any); ok && prefs[cat] == true {
				return "GRANTED"
			}
			return "DENIED"
		}
		m.consent = &consent{AdUserData: granted(s.ConsentAdUserData), AdPersonalization: granted(s.ConsentAdPersonalization)}
	}
	return m, nil
}

// sessionNumber is GA4's numeric session_id for spoor's session id.
func sessionNumber(id string) int64 {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() % 1e10)
}

func decodeProps(raw map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		var x any
		if json.Unmarshal(v, &x) == nil {
			out[k] = x
		}
	}
	return out
}

// scalar is a string, number or boolean as GA4 takes it (booleans as
// strings); objects and arrays are not parameters.
func scalar(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return int64(x), true
		}
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	}
	return nil, false
}

func checkParams(params map[string]any) error {
	if len(params) > maxParams {
		return fmt.Errorf("the event has %d parameters; GA4 takes %d", len(params), maxParams)
	}
	for k, v := range params {
		if k == "items" {
			continue
		}
		if err := checkName("parameter", k, maxNameLen, true); err != nil {
			return err
		}
		if s, ok := v.(string); ok && len([]rune(s)) > maxParamValueLen {
			return fmt.Errorf("parameter %s is %d characters; GA4 takes %d", k, len([]rune(s)), maxParamValueLen)
		}
	}
	return nil
}

func checkUserProps(props map[string]userProp) error {
	if len(props) > maxUserProps {
		return fmt.Errorf("the identify sets %d user properties; GA4 takes %d", len(props), maxUserProps)
	}
	for k, v := range props {
		if err := checkName("user property", k, maxUserPropNameLen, true); err != nil {
			return err
		}
		if s, ok := v.Value.(string); ok && len([]rune(s)) > maxUserPropValueLen {
			return fmt.Errorf("user property %s is %d characters; GA4 takes %d", k, len([]rune(s)), maxUserPropValueLen)
		}
	}
	return nil
}

// ecommerceParams maps Segment's e-commerce v2 properties onto GA4's
// (developers.google.com/analytics/devguides/collection/ga4/ecommerce).
func ecommerceParams(name string, props, params map[string]any, defaultCurrency string) error {
	str := func(k string) string {
		if s, ok := props[k].(string); ok {
			return s
		}
		if f, ok := props[k].(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return ""
	}
	num := func(ks ...string) (float64, bool) {
		for _, k := range ks {
			if f, ok := props[k].(float64); ok {
				return f, true
			}
		}
		return 0, false
	}
	currency := strings.ToUpper(str("currency"))
	if currency == "" {
		currency = defaultCurrency
	}
	value, hasValue := num("value", "total", "revenue")
	if !hasValue {
		if price, ok := num("price"); ok {
			qty, ok := num("quantity")
			if !ok {
				qty = 1
			}
			value, hasValue = price*qty, true
		}
	}
	// GA4 takes a value only with its currency: without one (and no
	// currency setting) the value is left out, the event still goes.
	if currency != "" {
		params["currency"] = currency
		if hasValue {
			params["value"] = value
		}
	}
	if c := str("coupon"); c != "" {
		params["coupon"] = c
	}
	switch name {
	case "Order Completed", "Order Refunded":
		id := str("order_id")
		if id == "" && name == "Order Completed" {
			return fmt.Errorf("Order Completed needs order_id (GA4's transaction_id)")
		}
		params["transaction_id"] = id
		if f, ok := num("shipping"); ok {
			params["shipping"] = f
		}
		if f, ok := num("tax"); ok {
			params["tax"] = f
		}
	case "Products Searched":
		if q := str("query"); q != "" {
			params["search_term"] = q
		}
	}
	var products []any
	if ps, ok := props["products"].([]any); ok {
		products = ps
	} else if str("product_id") != "" || str("sku") != "" || str("name") != "" {
		products = []any{props} // a single product's event: the product is the properties
	}
	if len(products) > maxItems {
		return fmt.Errorf("%s has %d products; GA4 takes %d items", name, len(products), maxItems)
	}
	var items []map[string]any
	for i, p := range products {
		pm, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: products[%d] is not an object", name, i)
		}
		item, err := itemOf(pm)
		if err != nil {
			return fmt.Errorf("%s: products[%d]: %w", name, i, err)
		}
		items = append(items, item)
	}
	if items != nil {
		params["items"] = items
	}
	return nil
}

// itemOf maps one Segment product onto a GA4 item.
func itemOf(p map[string]any) (map[string]any, error) {
	item := map[string]any{}
	for seg, ga := range map[string]string{"product_id": "item_id", "sku": "item_id", "name": "item_name", "brand": "item_brand",
		"category": "item_category", "variant": "item_variant", "coupon": "coupon"} {
		if v, ok := p[seg]; ok {
			if s, ok := scalar(v); ok {
				if _, taken := item[ga]; !taken || seg == "product_id" {
					item[ga] = fmt.Sprint(s)
				}
			}
		}
	}
	for seg, ga := range map[string]string{"price": "price", "quantity": "quantity", "position": "index"} {
		if f, ok := p[seg].(float64); ok {
			item[ga] = f
		}
	}
	if item["item_id"] == nil && item["item_name"] == nil {
		return nil, fmt.Errorf("an item needs product_id, sku or name (GA4's item_id or item_name)")
	}
	return item, nil
}

package collector

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/spoor-dev/spoor/internal/bots"
	"github.com/spoor-dev/spoor/schema"
)

// The fields the server derives from a request rather than reads from it:
// machine traffic (internal/bots), e-mail opens fetched by a mail
// provider's proxy, GeoIP, and what is kept of the client's address, per
// app (collector.ip_handling): its keyed hash, its /24 or /48 network, or
// nothing. GeoIP looks at the address before any of that.

// IP handling modes.
const (
	IPHash     = "hash"
	IPTruncate = "truncate"
	IPDrop     = "drop"
)

// Enrichment configures the derived fields.
type Enrichment struct {
	DropBots        []string // endpoints whose machine traffic is not kept
	AppleRelay      []*net.IPNet
	GeoIP           *maxminddb.Reader // nil: no GeoIP
	IPHandling      string            // the default mode
	IPHandlingByApp map[string]string
}

// request is what the derivations read of one request.
type request struct {
	endpoint, ip, userAgent, method, purpose, acceptLanguage string
}

// derive fills the request-wide server fields of info.
func (c *Collector) derive(r request, info *schema.ServerInfo) {
	if r.endpoint == "img" {
		relay := len(c.en.AppleRelay) > 0 && c.appleRelay(net.ParseIP(r.ip))
		switch {
		case r.userAgent == "Mozilla/5.0" || relay:
			// Mail Privacy Protection prefetches with exactly this agent, from
			// Apple's relays: a prefetch, not a person reading.
			info.OpenVia, info.OpenViaVerified = "apple_mpp", relay
		case strings.Contains(r.userAgent, "GoogleImageProxy"):
			info.OpenVia = "gmail_proxy" // a person opened it; Gmail fetched the image for them
		}
	}
	if info.OpenVia == "" && c.bots != nil {
		if v := c.bots.Check(bots.Request{Method: r.method, UserAgent: r.userAgent, Purpose: r.purpose,
			AcceptLanguage: r.acceptLanguage}); v.Bot {
			info.Bot, info.BotFamily = true, v.Family
		}
	}
	if c.en.GeoIP != nil {
		info.GeoCountry, info.GeoCity = c.geo(r.ip)
	}
}

// flagCarriedAgent flags a server-side event by the agent it carries for
// its user (its ua field), never by the sending server's own.
func (c *Collector) flagCarriedAgent(e *schema.Event) {
	if c.bots == nil || e.UserAgent == "" {
		return
	}
	if v := c.bots.UserAgent(e.UserAgent); v.Bot {
		t := true
		e.Bot, e.BotFamily = &t, v.Family
	}
}

func (c *Collector) appleRelay(ip net.IP) bool {
	if ip == nil {
		return false
	}
	for _, n := range c.en.AppleRelay {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// dropBot reports whether e is machine traffic its endpoint does not keep,
// and counts machine traffic either way.
func (c *Collector) dropBot(e *schema.Event) bool {
	if e.Bot == nil || !*e.Bot {
		return false
	}
	if c.dropBots[e.Endpoint] {
		c.m.Bots.WithLabelValues(e.Endpoint, "dropped").Inc()
		return true
	}
	c.m.Bots.WithLabelValues(e.Endpoint, "flagged").Inc()
	return false
}

type geoRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
}

func (c *Collector) geo(ip string) (country, city string) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", ""
	}
	var rec geoRecord
	if err := c.en.GeoIP.Lookup(addr.Unmap()).Decode(&rec); err != nil {
		return "", ""
	}
	return rec.Country.ISOCode, rec.City.Names["en"]
}

// applyIP keeps what the event's app allows of the client's address;
// hash memoizes the address's HMAC across a request's events.
func (c *Collector) applyIP(e *schema.Event, ip string, hash *string) {
	mode := c.en.IPHandling
	if m, ok := c.en.IPHandlingByApp[e.App]; ok {
		mode = m
	}
	switch mode {
	case IPTruncate:
		e.IPHash, e.IPPrefix = "", truncateIP(ip)
	case IPDrop:
		e.IPHash, e.IPPrefix = "", ""
	default:
		if *hash == "" {
			*hash = c.ips.get(ip)
		}
		e.IPHash, e.IPPrefix = *hash, ""
	}
}

// truncateIP is the address's /24 (IPv4) or /48 (IPv6) network.
func truncateIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// ParseIPHandling reads collector.ip_handling_by_app ("app=mode" entries).
func ParseIPHandling(def string, byApp []string) (string, map[string]string, error) {
	valid := func(m string) bool { return m == IPHash || m == IPTruncate || m == IPDrop }
	if !valid(def) {
		return "", nil, fmt.Errorf("ip handling %q: must be hash, truncate or drop", def)
	}
	out := map[string]string{}
	for _, e := range byApp {
		app, mode, ok := strings.Cut(e, "=")
		if !ok || app == "" || !valid(mode) {
			return "", nil, fmt.Errorf("ip handling %q: want app=hash|truncate|drop", e)
		}
		out[app] = mode
	}
	return def, out, nil
}

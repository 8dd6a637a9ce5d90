package config

import (
	"net"
	"strings"
)

func (c *Config) validatePrivacy(bad func(key, format string, a ...any)) {
	k := c.Collector
	modes := map[string]bool{"hash": true, "truncate": true, "drop": true}
	if !modes[k.IPHandling] {
		bad("collector.ip_handling", "must be hash, truncate or drop, got %q", k.IPHandling)
	}
	for _, e := range k.IPHandlingByApp {
		app, mode, ok := strings.Cut(e, "=")
		if !ok || app == "" || !modes[mode] {
			bad("collector.ip_handling_by_app", "%q must be app=hash, app=truncate or app=drop", e)
		}
	}
	endpoints := map[string]bool{"tr": true, "str": true, "img": true, "rdr": true, "proxy": true}
	for _, e := range k.DropBots {
		if !endpoints[e] {
			bad("collector.drop_bots", "%q is not an endpoint (tr, str, img, rdr, proxy)", e)
		}
	}
	for _, n := range k.AppleRelayCIDRs {
		if _, _, err := net.ParseCIDR(n); err != nil {
			bad("collector.apple_relay_cidrs", "%q is not a CIDR", n)
		}
	}
}

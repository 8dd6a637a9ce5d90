package app

import (
	"fmt"
	"net"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/spoor-dev/spoor/collector"
	"github.com/spoor-dev/spoor/internal/config"
)

// enrichment opens what the collector's derived fields need (the GeoIP
// database) and parses the rest; the caller closes the returned reader.
func enrichment(cfg config.Config) (collector.Enrichment, error) {
	k := cfg.Collector
	en := collector.Enrichment{DropBots: k.DropBots}
	var err error
	if en.IPHandling, en.IPHandlingByApp, err = collector.ParseIPHandling(k.IPHandling, k.IPHandlingByApp); err != nil {
		return en, fmt.Errorf("collector.ip_handling: %w", err)
	}
	for _, c := range k.AppleRelayCIDRs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return en, fmt.Errorf("parsing collector.apple_relay_cidrs %q: %w", c, err)
		}
		en.AppleRelay = append(en.AppleRelay, n)
	}
	if k.GeoIPDB != "" {
		if en.GeoIP, err = maxminddb.Open(k.GeoIPDB); err != nil {
			return en, fmt.Errorf("opening collector.geoip_db %s: %w", k.GeoIPDB, err)
		}
	}
	return en, nil
}

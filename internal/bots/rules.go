package bots

import (
	"regexp"
	"strings"
)

// rules catch the agents no list names yet, by what a crawler, a script or
// a scanner writes about itself; each is matched, after CrawlerDetect's
// exclusions (so a "CUBOT" phone is no bot), case-insensitively. The ideas
// are the generic patterns of isbot (omrilotan/isbot, Unlicense) and
// CrawlerDetect, written again for RE2, which has no lookarounds. None
// matches any of the real browsers' agents in the corpora
// (internal/bots/corpus_test.go).
var rules = []struct {
	name string
	raw  bool // matched in the agent as sent (with no device model), not stripped
	re   *regexp.Regexp
}{
	// A self-description: ...bot, crawler, spider, scraper, fetcher,
	// scanner, monitor, checker, validator, indexer, archiver, harvester,
	// preview, as a word or a word's end (Whoismindbot, nrsbot, LoadTimeBot).
	{"word", false, regexp.MustCompile(`(?i)[a-z0-9]*(?:bots?|crawl(?:er|ing)?|spider|scrap(?:er|ing|y)|fetch(?:er)?|scan(?:ner|ning)?|monitor(?:ing)?|check(?:er)?|validator|index(?:er|ing)|archiv(?:er|ing)|harvest(?:er)?|preview|probe|sitemap|analy[sz]er|audit|lookup|feed|reader|agent)\b`)},
	// A contact: a URL or an e-mail address (+http://…/bot.html,
	// help@moz.com). No browser names its maker's site.
	{"contact", false, regexp.MustCompile(`(?i)https?://|\bwww\.[a-z0-9-]+\.|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}`)},
	// A browser without a screen (HeadlessChrome, "Headless Chrome").
	{"headless", false, regexp.MustCompile(`(?i)headless|phantomjs|selenium|webdriver|puppeteer|playwright|lighthouse`)},
	// An HTTP library's or tool's own agent (curl, python-requests,
	// Go-http-client, Java, okhttp, axios…): a program, not a person.
	{"library", false, regexp.MustCompile(`(?i)^(?:curl|wget|python|aiohttp|httpx|go-http-client|go |java|apache-httpclient|okhttp|axios|node-fetch|node|undici|got |libwww|lwp-|php|guzzle|ruby|faraday|typhoeus|reqwest|rust|dart|postmanruntime|insomnia|httpie|winhttp|powershell|rest-?client|restsharp|http_request|libcurl|aria2|mechanize|scrapy|colly|hackney|dalvik|cfnetwork/[0-9.]+ darwin/[0-9.]+$)`)},
	// Nothing but a name (and a version): "Spotify/1.0", "collectd/5.5.1",
	// "Hello, world". A browser, and an app that talks for a person, say
	// more about where they run.
	{"bare", true, regexp.MustCompile(`(?i)^[a-z0-9 _.,:!-]+(?:/v?[0-9][a-z0-9._-]*)?$`)},
	// A browser's prefix around nothing but one name: "Mozilla/5.0
	// (compatible; Dormouse/1.0)", "Mozilla/5.0 (compatible)". A browser
	// names its platform and engine.
	{"compatible", true, regexp.MustCompile(`(?i)^mozilla/[0-9.]+ \((?:compatible;?)? *([^;()]*)\)$`)},
	// Probes and injection attempts: template and lookup syntax, markup.
	{"probe", false, regexp.MustCompile(`(?i)\$\{|\{\{|<(?:script|img|svg|iframe|\?|!)|jndi:|\(\)\s*\{`)},
}

// androidModel is the device model of an Android agent, "VR BOT 552" in
// "Android 6.0; VR BOT 552)" or "Android 11; AUPO Zeus 10 Pro Build/…":
// a phone's name, which may hold any word.
var androidModel = regexp.MustCompile(`(Android [0-9.]+;(?: [a-z]{2}[-_][a-zA-Z]{2};)?)[^;)]*?( Build/[^;)]*)?([;)])`)

// withoutModel blanks the device model out of an Android agent.
func withoutModel(ua string) string {
	if !strings.Contains(ua, "Android") {
		return ua
	}
	return androidModel.ReplaceAllString(ua, "$1$3")
}

// rule is the family of the first rule that matches, or "": raw is the
// agent without its device model, stripped also without the exclusions.
func rule(raw, stripped string) string {
	for _, r := range rules {
		ua := stripped
		if r.raw {
			ua = raw
		}
		loc := r.re.FindStringIndex(ua)
		if loc == nil {
			continue
		}
		switch r.name {
		case "word", "headless":
			return token(ua, loc[0], loc[1])
		case "compatible":
			if m := r.re.FindStringSubmatch(ua); m[1] != "" {
				return firstToken(m[1])
			}
			return "compatible"
		default:
			return firstToken(ua)
		}
	}
	return ""
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// token is the product token around ua[i:j]: "LoadTimeBot" around "Bot".
func token(ua string, i, j int) string {
	for i > 0 && tokenByte(ua[i-1]) {
		i--
	}
	for j < len(ua) && tokenByte(ua[j]) {
		j++
	}
	return family(ua[i:j])
}

// firstToken is the agent's first product name: "XmlSitemapGenerator" of
// "XmlSitemapGenerator - http://…".
func firstToken(ua string) string {
	ua = strings.TrimLeft(ua, " ")
	if i := strings.IndexAny(ua, " /;(,"); i > 0 {
		ua = ua[:i]
	}
	return family(ua)
}

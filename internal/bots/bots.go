// Package bots flags machine traffic. Crawlers, scrapers and headless
// browsers are recognised by user agent against two maintained lists,
// monperrus/crawler-user-agents and JayBizzle/Crawler-Detect (both MIT,
// embedded; refresh with scripts/update-bots.sh), then by generic rules for
// what no list names yet (rules.go), with the matched name as the family;
// cheap header signals catch what the agent does not say. Nothing here
// drops an event: the caller flags it and decides.
package bots

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

//go:embed crawler-user-agents.json
var listJSON []byte

// ListVersion is the crawler-user-agents release embedded.
const ListVersion = "1.60.0"

// Verdict says whether a request is machine traffic and, if so, which
// family: the crawler's name as it appears in the user agent (Googlebot,
// AhrefsBot, HeadlessChrome) or the signal that gave it away (head_request,
// prefetch, no_accept_language).
type Verdict struct {
	Bot    bool
	Family string
}

// Crawler is one entry of the embedded list.
type Crawler struct {
	Pattern   string   `json:"pattern"`
	Instances []string `json:"instances"`
}

// Detector matches user agents. Safe for concurrent use.
type Detector struct {
	list *index // crawler-user-agents, case-sensitive as published
	cd   *crawlerDetect

	mu    sync.RWMutex
	cache map[string]Verdict // user agents repeat: most lookups are one map read
}

const cacheMax = 20000

// weak are crawler-user-agents patterns that match real browsers' agents
// (found in the corpora of corpus_test.go): they are left out, and their
// crawlers are caught by CrawlerDetect or the rules instead.
var weak = map[string]string{
	`AP3A\.240617\.008`: "an Android build id that many phones of 2025 carry",
	`Sogou`:             "also Sogou's own mobile browser (SogouMobileBrowser)",
	`Sonic`:             "also a phone (O+ Sonic)",
	`Butterfly`:         "also a phone (HTC Butterfly)",
	`Fever`:             "also a phone",
	`Fluid`:             "also a browser (Fluid for macOS)",
}

// List is the embedded crawler list.
func List() ([]Crawler, error) {
	var cs []Crawler
	if err := json.Unmarshal(listJSON, &cs); err != nil {
		return nil, fmt.Errorf("reading the crawler list: %w", err)
	}
	return cs, nil
}

// Shared is the one Detector of the process: the lists compile once, and
// its cache serves every collector and proxy in it.
var Shared = sync.OnceValues(New)

// New compiles the embedded lists.
func New() (*Detector, error) {
	cs, err := List()
	if err != nil {
		return nil, err
	}
	var srcs []string
	for _, c := range cs {
		if weak[c.Pattern] == "" {
			srcs = append(srcs, c.Pattern)
		}
	}
	d := &Detector{cache: map[string]Verdict{}}
	if d.list, err = newIndex(srcs, false); err != nil {
		return nil, fmt.Errorf("crawler-user-agents: %w", err)
	}
	if d.cd, err = newCrawlerDetect(); err != nil {
		return nil, err
	}
	return d, nil
}

// match is the family ua is known by, or "": the crawler list, the mail
// scanners, then CrawlerDetect, then the rules.
func (d *Detector) match(ua string) string {
	if m := d.list.match(ua); m != "" {
		return family(m)
	}
	if f := scanner(ua); f != "" {
		return f
	}
	raw := withoutModel(ua)
	stripped := d.cd.strip(raw)
	if strings.TrimSpace(stripped) == "" {
		return ""
	}
	if m := d.cd.crawlers.match(stripped); m != "" {
		if loc := strings.Index(ua, m); loc >= 0 {
			return token(ua, loc, loc+len(m))
		}
		return family(m)
	}
	return rule(raw, stripped)
}

// UserAgent says whether ua belongs to a crawler, scraper, headless
// browser, HTTP library, link previewer or mail scanner; verdicts are
// cached per agent.
func (d *Detector) UserAgent(ua string) Verdict {
	if ua == "" {
		return Verdict{}
	}
	d.mu.RLock()
	v, ok := d.cache[ua]
	d.mu.RUnlock()
	if ok {
		return v
	}
	if f := d.match(ua); f != "" {
		v = Verdict{Bot: true, Family: f}
	}
	d.mu.Lock()
	if len(d.cache) >= cacheMax {
		clear(d.cache) // a flood of unique agents: start over rather than grow
	}
	d.cache[ua] = v
	d.mu.Unlock()
	return v
}

// family cleans the matched text into a name: "Googlebot/" -> "Googlebot".
func family(m string) string {
	if i := strings.Index(m, "/"); i > 0 && i+1 < len(m) && m[i+1] >= '0' && m[i+1] <= '9' {
		m = m[:i] // the version is not the name: "Java/17.0.9" -> "Java"
	}
	m = strings.Trim(m, " /;()+:-_")
	if len(m) > 48 {
		m = m[:48]
	}
	if m == "" {
		return "unknown"
	}
	return m
}

// Request is what the header signals look at.
type Request struct {
	Method         string
	UserAgent      string
	Purpose        string // Purpose or Sec-Purpose
	AcceptLanguage string
}

// scanners are fetchers of links in mail and chat that the crawler list
// lacks (checked against crawler-user-agents 1.60.0): mail-security
// gateways that open every link of a message before the reader does, and
// Outlook's link preview. Matched case-insensitively in the user agent.
// Scanners that send a plain browser's agent (Microsoft Defender's Safe
// Links, many gateways) cannot be told by it: docs/links.md says so.
var scanners = []struct{ substr, family string }{
	{"barracuda", "Barracuda"},
	{"proofpoint", "Proofpoint"},
	{"mimecast", "Mimecast"},
	{"microsoft office/", "OutlookLinkPreview"},
}

func scanner(ua string) string {
	lower := strings.ToLower(ua)
	for _, s := range scanners {
		if strings.Contains(lower, s.substr) {
			return s.family
		}
	}
	return ""
}

// Check flags r: the crawler list first, then the signals. A prefetch is
// machine traffic (no person has seen the page yet) though not a crawler;
// a "browser" that sends no Accept-Language is almost always a script.
func (d *Detector) Check(r Request) Verdict {
	if v := d.UserAgent(r.UserAgent); v.Bot {
		return v
	}
	switch {
	case r.Method == "HEAD":
		return Verdict{Bot: true, Family: "head_request"}
	case strings.Contains(strings.ToLower(r.Purpose), "prefetch"):
		return Verdict{Bot: true, Family: "prefetch"}
	case r.AcceptLanguage == "" && strings.HasPrefix(r.UserAgent, "Mozilla/5.0 (") && !strings.Contains(r.UserAgent, "GoogleImageProxy"):
		return Verdict{Bot: true, Family: "no_accept_language"}
	}
	return Verdict{}
}

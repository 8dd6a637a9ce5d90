// Package bots flags machine traffic. Crawlers, scrapers and headless
// browsers are recognised by user agent against monperrus/crawler-user-agents
// (MIT, embedded; refresh with scripts/update-bots.sh), with the matched
// name as the family; cheap header signals catch what the list does not.
// Nothing here drops an event: the caller flags it and decides.
package bots

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"
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
//
// 1,500 patterns tried one by one, or as one alternation, cost milliseconds
// per new user agent. Almost every pattern requires some literal text
// (`Googlebot`, `curl`), so each is filed under the first three bytes of
// its longest required literal: a user agent is checked only against the
// patterns whose literal it contains, found by looking up each of its
// three-byte windows. The few patterns without such a literal are always
// tried.
type Detector struct {
	pats   []*pattern
	byTri  map[string][]int // first three bytes of a pattern's literal -> patterns
	always []int            // patterns with no literal of three bytes or more

	mu    sync.RWMutex
	cache map[string]Verdict // user agents repeat: most lookups are one map read
}

// pattern is compiled when a user agent first contains its literal: most
// never are, and 1,500 compiled expressions held 2 MB of every process.
type pattern struct {
	src  string
	lit  string // required in every match ("" if none)
	once sync.Once
	re   *regexp.Regexp
}

func (p *pattern) regexp() *regexp.Regexp {
	p.once.Do(func() { p.re = regexp.MustCompile(p.src) }) // New checked that it compiles
	return p.re
}

const cacheMax = 20000

// List is the embedded crawler list.
func List() ([]Crawler, error) {
	var cs []Crawler
	if err := json.Unmarshal(listJSON, &cs); err != nil {
		return nil, fmt.Errorf("reading the crawler list: %w", err)
	}
	return cs, nil
}

// Shared is the one Detector of the process: the list compiles once, and
// its cache serves every collector and proxy in it.
var Shared = sync.OnceValues(New)

// New compiles the embedded list.
func New() (*Detector, error) {
	cs, err := List()
	if err != nil {
		return nil, err
	}
	d := &Detector{cache: map[string]Verdict{}, byTri: map[string][]int{}}
	for i, c := range cs {
		if _, err := regexp.Compile(c.Pattern); err != nil {
			return nil, fmt.Errorf("compiling crawler pattern %q: %w", c.Pattern, err)
		}
		lit := requiredLiteral(c.Pattern)
		d.pats = append(d.pats, &pattern{src: c.Pattern, lit: lit})
		if len(lit) >= 3 {
			d.byTri[lit[:3]] = append(d.byTri[lit[:3]], i)
		} else {
			d.always = append(d.always, i)
		}
	}
	return d, nil
}

// requiredLiteral is the longest case-sensitive literal that every match
// of the pattern contains, or "".
func requiredLiteral(pat string) string {
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return ""
	}
	return longestLiteral(re.Simplify())
}

func longestLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return longestLiteral(re.Sub[0])
	case syntax.OpConcat:
		best := ""
		run := "" // adjacent literals join into one
		for _, sub := range re.Sub {
			l := ""
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
				run += string(sub.Rune)
				if len(run) > len(best) {
					best = run
				}
				continue
			}
			run = ""
			if sub.Op == syntax.OpBeginText || sub.Op == syntax.OpBeginLine || sub.Op == syntax.OpWordBoundary {
				continue
			}
			l = longestLiteral(sub)
			if len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// match is the family of the first pattern ua matches, or "".
func (d *Detector) match(ua string) string {
	try := func(i int) string {
		p := d.pats[i]
		if p.lit != "" && !strings.Contains(ua, p.lit) {
			return ""
		}
		if m := p.regexp().FindString(ua); m != "" {
			return family(m)
		}
		return ""
	}
	for i := 0; i+3 <= len(ua); i++ {
		for _, n := range d.byTri[ua[i:i+3]] {
			if f := try(n); f != "" {
				return f
			}
		}
	}
	for _, n := range d.always {
		if f := try(n); f != "" {
			return f
		}
	}
	return ""
}

// UserAgent says whether ua belongs to a crawler, scraper, headless
// browser, link previewer or mail scanner (the crawler list, then
// scanners); verdicts are cached per agent.
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
	} else if f := scanner(ua); f != "" {
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

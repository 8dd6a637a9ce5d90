package bots

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// index finds which of many patterns a user agent matches without trying
// them all. 1,500 patterns tried one by one, or as one alternation, cost
// milliseconds per new user agent. Almost every pattern requires some
// literal text (`Googlebot`, `curl`), so each is filed under the first
// three bytes of its longest required literal: a user agent is checked
// only against the patterns whose literal it contains, found by looking up
// each of its three-byte windows. The few patterns without such a literal
// are always tried. A case-insensitive index (fold) files lowercased
// literals and looks the agent up lowercased.
type index struct {
	pats   []*pattern
	byTri  map[string][]int // first three bytes of a pattern's literal -> patterns
	always []int            // patterns with no literal of three bytes or more
	fold   bool
}

// pattern is compiled when a user agent first contains its literal: most
// never are, and 1,500 compiled expressions held 2 MB of every process.
type pattern struct {
	src  string // as RE2 takes it ((?i) prefixed in a fold index)
	lit  string // required in every match ("" if none); lowercase in a fold index
	neg  string // a trailing negative lookahead (?!neg), which RE2 lacks: checked after the match
	once sync.Once
	re   *regexp.Regexp
	notR *regexp.Regexp
}

func (p *pattern) compile() {
	p.once.Do(func() { // newIndex checked that both compile
		p.re = regexp.MustCompile(p.src)
		if p.neg != "" {
			p.notR = regexp.MustCompile(`^(?:` + p.neg + `)`)
		}
	})
}

// find is the text of the pattern's first match in ua, or "".
func (p *pattern) find(ua string) string {
	p.compile()
	if p.notR == nil {
		return p.re.FindString(ua)
	}
	for _, loc := range p.re.FindAllStringIndex(ua, -1) {
		if !p.notR.MatchString(ua[loc[1]:]) {
			return ua[loc[0]:loc[1]]
		}
	}
	return ""
}

// lookahead splits a trailing negative lookahead off a pattern
// (CrawlerDetect's `Yandex(?!Search)`).
var lookahead = regexp.MustCompile(`^(.*)\(\?!([^()]*)\)$`)

func newIndex(srcs []string, fold bool) (*index, error) {
	x := &index{byTri: map[string][]int{}, fold: fold}
	for i, src := range srcs {
		p := &pattern{src: src}
		if m := lookahead.FindStringSubmatch(src); m != nil {
			p.src, p.neg = m[1], m[2]
		}
		if fold {
			p.src = "(?i)" + p.src
			if p.neg != "" {
				p.neg = "(?i)" + p.neg
			}
		}
		for _, s := range []string{p.src, p.neg} {
			if _, err := regexp.Compile(s); err != nil {
				return nil, fmt.Errorf("compiling pattern %q: %w", src, err)
			}
		}
		p.lit = requiredLiteral(p.src, fold)
		x.pats = append(x.pats, p)
		if len(p.lit) >= 3 {
			x.byTri[p.lit[:3]] = append(x.byTri[p.lit[:3]], i)
		} else {
			x.always = append(x.always, i)
		}
	}
	return x, nil
}

// match is the text of the first match of a pattern in ua, or "".
func (x *index) match(ua string) string {
	key := ua
	if x.fold {
		key = lowerASCII(ua)
	}
	try := func(i int) string {
		p := x.pats[i]
		if p.lit != "" && !strings.Contains(key, p.lit) {
			return ""
		}
		return p.find(ua)
	}
	for i := 0; i+3 <= len(key); i++ {
		for _, n := range x.byTri[key[i:i+3]] {
			if m := try(n); m != "" {
				return m
			}
		}
	}
	for _, n := range x.always {
		if m := try(n); m != "" {
			return m
		}
	}
	return ""
}

// requiredLiteral is the longest literal that every match of the pattern
// contains, or "": case-sensitive, or lowercased when fold.
func requiredLiteral(pat string, fold bool) string {
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return ""
	}
	return longestLiteral(re.Simplify(), fold)
}

func literal(re *syntax.Regexp, fold bool) (string, bool) {
	if re.Op != syntax.OpLiteral {
		return "", false
	}
	if re.Flags&syntax.FoldCase != 0 {
		if !fold {
			return "", false
		}
		return strings.ToLower(string(re.Rune)), true
	}
	if fold {
		return strings.ToLower(string(re.Rune)), true
	}
	return string(re.Rune), true
}

func longestLiteral(re *syntax.Regexp, fold bool) string {
	switch re.Op {
	case syntax.OpLiteral:
		l, _ := literal(re, fold)
		return l
	case syntax.OpCapture, syntax.OpPlus:
		return longestLiteral(re.Sub[0], fold)
	case syntax.OpConcat:
		best := ""
		run := "" // adjacent literals join into one
		for _, sub := range re.Sub {
			if l, ok := literal(sub, fold); ok {
				run += l
				if len(run) > len(best) {
					best = run
				}
				continue
			}
			run = ""
			if sub.Op == syntax.OpBeginText || sub.Op == syntax.OpBeginLine || sub.Op == syntax.OpWordBoundary {
				continue
			}
			if l := longestLiteral(sub, fold); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// lowerASCII lowercases A-Z only, so byte offsets stay where they were.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

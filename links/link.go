package links

import (
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Link is a short link: GET <prefix>/<Slug> redirects to To.
type Link struct {
	Slug string `json:"slug"`
	To   string `json:"to"`
	// Status is the redirect's code: 302 (the default: every click
	// reaches spoor), or 301, 307, 308. Browsers cache 301 and 308 and
	// then skip spoor on repeat clicks (YOURLS' counts).
	Status int `json:"status,omitempty"`
	// ExpiresAt ends the link: afterwards it goes to ExpiredTo, or
	// answers 410 when there is none. MaxClicks does the same after that
	// many human clicks (bots and prefetches do not use them up).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	ExpiredTo string     `json:"expired_to,omitempty"`
	MaxClicks int64      `json:"max_clicks,omitempty"`
	// IOS and Android, when set, replace To for those devices.
	IOS     string `json:"ios,omitempty"`
	Android string `json:"android,omitempty"`
	// ForwardQuery appends the click's query (?utm_source=…) to the target.
	ForwardQuery bool `json:"forward_query,omitempty"`
	// Fields are recorded with every click (ename defaults to
	// link_click): campaign, app, anything in the event dictionary.
	Fields    map[string]string `json:"fields,omitempty"`
	Disabled  bool              `json:"disabled,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Counts are a link's clicks: every recorded click, and those not flagged
// as machine traffic.
type Counts struct {
	All   int64 `json:"all"`
	Human int64 `json:"human"`
}

// Validation errors a caller shows as 400.
var (
	ErrInvalid  = errors.New("invalid link")
	ErrNotFound = errors.New("no such link")
	ErrExists   = errors.New("slug already taken")
)

var slugRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks a link before it is stored.
func (l *Link) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if !slugRE.MatchString(l.Slug) {
		return bad("slug %q: 1 to 64 of A-Z a-z 0-9 _ -", l.Slug)
	}
	for name, t := range map[string]string{"to": l.To, "expired_to": l.ExpiredTo, "ios": l.IOS, "android": l.Android} {
		if t == "" && name != "to" {
			continue
		}
		if _, err := Target(t); err != nil {
			return bad("%s: %v", name, err)
		}
	}
	switch l.Status {
	case 0, 301, 302, 307, 308:
	default:
		return bad("status %d: 301, 302, 307 or 308", l.Status)
	}
	if l.MaxClicks < 0 {
		return bad("max_clicks %d: 0 (no limit) or more", l.MaxClicks)
	}
	if len(l.Fields) > 32 {
		return bad("%d fields: at most 32", len(l.Fields))
	}
	return nil
}

// Code is the redirect's HTTP status.
func (l *Link) Code() int {
	if l.Status == 0 {
		return 302
	}
	return l.Status
}

// slugAlphabet leaves out what reads alike: 0/O/o, 1/l/I.
const slugAlphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

// NewSlug draws a random slug of n characters (56^7: 1.7e12 for 7).
func NewSlug(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		for _, c := range buf {
			// 224 = 4×56: bytes above it are dropped, so every character is equally likely.
			if int(c) < 4*len(slugAlphabet) && len(out) < n {
				out = append(out, slugAlphabet[int(c)%len(slugAlphabet)])
			}
		}
	}
	return string(out)
}

// ValidSlug reports whether s can be a slug (custom or generated).
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// BaseURL is what public links start with: configured (links.base_url)
// when set, else the scheme and host the request came to.
func BaseURL(configured string, https bool, host string) string {
	switch {
	case configured != "":
		return configured
	case https:
		return "https://" + host
	}
	return "http://" + host
}

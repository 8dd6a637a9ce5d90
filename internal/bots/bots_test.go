package bots

import (
	"testing"
)

// Every instance the list itself gives for its patterns is flagged: the
// embedded list compiles under Go's regexp and matches what it claims.
func TestEveryListedInstanceIsFlagged(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := List()
	n, left := 0, 0
	for _, c := range cs {
		if weak[c.Pattern] != "" {
			left++
			continue
		}
		for _, ua := range c.Instances {
			n++
			if v := d.UserAgent(ua); !v.Bot || v.Family == "" {
				t.Errorf("%q (pattern %q) not flagged: %+v", ua, c.Pattern, v)
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d instances in the list", n)
	}
	// The patterns left out must still be in the list (a new release may
	// drop or fix them), and few.
	if left != len(weak) || left > 10 {
		t.Errorf("%d weak patterns found in the list of %d named", left, len(weak))
	}
}

// The prefilter files nearly every pattern under a literal; the rest are
// tried for every new user agent, so they must stay few.
func TestPrefilterCoversTheList(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]*index{"crawler-user-agents": d.list, "CrawlerDetect": d.cd.crawlers} {
		if n := len(x.always); n > 40 {
			t.Errorf("%s: %d of %d patterns have no literal to file them under", name, n, len(x.pats))
		}
	}
}

func TestVerdicts(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
	const safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	for _, tc := range []struct {
		name string
		r    Request
		want Verdict
	}{
		{"firefox", Request{Method: "GET", UserAgent: firefox, AcceptLanguage: "en"}, Verdict{}},
		{"safari", Request{Method: "GET", UserAgent: safari, AcceptLanguage: "fr-FR"}, Verdict{}},
		{"chrome", Request{Method: "POST", UserAgent: chrome, AcceptLanguage: "de"}, Verdict{}},
		{"googlebot", Request{Method: "GET", UserAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, Verdict{true, "Googlebot"}},
		{"headless chrome", Request{Method: "GET", AcceptLanguage: "en-US",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36"}, Verdict{true, "HeadlessChrome"}},
		{"curl", Request{Method: "GET", UserAgent: "curl/8.14.1"}, Verdict{true, "curl"}},
		{"HEAD", Request{Method: "HEAD", UserAgent: firefox, AcceptLanguage: "en"}, Verdict{true, "head_request"}},
		{"prefetch", Request{Method: "GET", UserAgent: chrome, AcceptLanguage: "en", Purpose: "prefetch;prerender"}, Verdict{true, "prefetch"}},
		{"browser without Accept-Language", Request{Method: "GET", UserAgent: chrome}, Verdict{true, "no_accept_language"}},
		{"app without Accept-Language", Request{Method: "POST", UserAgent: "ShopApp/3.2 (Android 15)"}, Verdict{}},
		// Link previewers and mail scanners inflate click counts (docs/links.md).
		{"slack preview", Request{UserAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}, Verdict{true, "Slackbot"}},
		{"twitter preview", Request{UserAgent: "Twitterbot/1.0"}, Verdict{true, "Twitterbot"}},
		{"facebook preview", Request{UserAgent: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"}, Verdict{true, "facebookexternalhit"}},
		{"linkedin preview", Request{UserAgent: "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"}, Verdict{true, "LinkedInBot"}},
		{"barracuda", Request{UserAgent: "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", AcceptLanguage: "en"}, Verdict{true, "Barracuda"}},
		{"mimecast", Request{UserAgent: "Mimecast URL Protect"}, Verdict{true, "Mimecast"}},
		{"outlook preview", Request{UserAgent: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.12026; Pro)", AcceptLanguage: "en"}, Verdict{true, "OutlookLinkPreview"}},
		{"outlook showing images is a person", Request{UserAgent: "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", AcceptLanguage: "en"}, Verdict{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.Check(tc.r); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func BenchmarkUserAgent(b *testing.B) {
	d, err := New()
	if err != nil {
		b.Fatal(err)
	}
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.UserAgent(chrome)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.match(chrome)
		}
	})
	b.Run("uncached bot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.match("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)")
		}
	})
}

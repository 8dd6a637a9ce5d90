package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spoor-dev/spoor/links"
)

// The short-link commands call the admin API of a running collector
// (links.base_url, or http.addr) with the first of admin.tokens.
func init() {
	var api, slug, to, expires, expiredTo, out *string
	var maxClicks *int64
	var status, size *int
	var forward, svg *bool
	var fields fieldFlags
	apiFlag := func(fs *flag.FlagSet) {
		api = fs.String("api", "", "the collector's URL (default: links.base_url, else http://http.addr)")
	}
	register(command{name: "link create", usage: "--to URL [--slug S] [--expires T] [--max-clicks N] …",
		short: "create a short link and print its URL",
		flags: func(fs *flag.FlagSet) {
			apiFlag(fs)
			to = fs.String("to", "", "the target URL (http or https)")
			slug = fs.String("slug", "", "a custom slug (default: generated)")
			expires = fs.String("expires", "", "when the link ends: RFC 3339 (2027-01-31T00:00:00Z) or a duration from now (72h, 30d)")
			expiredTo = fs.String("expired-to", "", "where the link goes once expired or used up (default: a 410 page)")
			maxClicks = fs.Int64("max-clicks", 0, "human clicks after which the link is used up (0: no limit)")
			status = fs.Int("status", 0, "redirect status: 302 (default), 301, 307 or 308")
			forward = fs.Bool("forward-query", false, "append the click's query to the target")
			fields = nil // a fresh list per invocation (tests run several in one process)
			fs.Var(&fields, "field", "a field recorded with every click, k=v (repeatable: --field campaign=spring)")
		},
		run: func(c *invocation) int {
			body := map[string]any{"to": *to, "slug": *slug, "expired_to": *expiredTo, "max_clicks": *maxClicks,
				"status": *status, "forward_query": *forward}
			if *expires != "" {
				at, err := parseExpiry(*expires, time.Now())
				if err != nil {
					fmt.Fprintln(os.Stderr, "spoor link create:", err)
					return 2
				}
				body["expires_at"] = at
			}
			if len(fields) > 0 {
				m := map[string]string{}
				for _, f := range fields {
					m[f.Key] = f.Value
				}
				body["fields"] = m
			}
			var l struct {
				ShortURL string `json:"short_url"`
			}
			if code := linkAPI(c, *api, "POST", "", body, &l); code != 0 {
				return code
			}
			fmt.Println(l.ShortURL)
			return 0
		}})
	register(command{name: "link list", short: "list the short links",
		flags: apiFlag,
		run: func(c *invocation) int {
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SLUG\tSTATE\tTARGET\tSHORT URL")
			for after := ""; ; {
				var page struct {
					Links []struct {
						Slug, To string
						ShortURL string     `json:"short_url"`
						Disabled bool       `json:"disabled"`
						Expires  *time.Time `json:"expires_at"`
					}
					Next string
				}
				if code := linkAPI(c, *api, "GET", "?limit=1000&after="+url.QueryEscape(after), nil, &page); code != 0 {
					return code
				}
				for _, l := range page.Links {
					state := "active"
					switch {
					case l.Disabled:
						state = "disabled"
					case l.Expires != nil && time.Now().After(*l.Expires):
						state = "expired"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", l.Slug, state, l.To, l.ShortURL)
				}
				if page.Next == "" {
					break
				}
				after = page.Next
			}
			w.Flush()
			return 0
		}})
	register(command{name: "link get", usage: "SLUG", short: "show a short link with its click counts (JSON)",
		flags: apiFlag,
		run: func(c *invocation) int {
			if len(c.args) != 1 {
				fmt.Fprintln(os.Stderr, "usage: spoor link get SLUG")
				return 2
			}
			var l json.RawMessage
			if code := linkAPI(c, *api, "GET", "/"+url.PathEscape(c.args[0]), nil, &l); code != 0 {
				return code
			}
			var buf bytes.Buffer
			_ = json.Indent(&buf, l, "", "  ")
			fmt.Println(buf.String())
			return 0
		}})
	register(command{name: "link disable", usage: "SLUG", short: "turn a short link off (it answers 410 from then on)",
		flags: apiFlag,
		run: func(c *invocation) int {
			if len(c.args) != 1 {
				fmt.Fprintln(os.Stderr, "usage: spoor link disable SLUG")
				return 2
			}
			if code := linkAPI(c, *api, "POST", "/"+url.PathEscape(c.args[0])+"/disable", nil, nil); code != 0 {
				return code
			}
			fmt.Println("disabled", c.args[0])
			return 0
		}})
	register(command{name: "link qr", usage: "[-out FILE] [-svg] SLUG", short: "write a short link's QR code (its scans are recorded with qr: true)",
		flags: func(fs *flag.FlagSet) {
			out = fs.String("out", "", "file to write (default: standard output)")
			svg = fs.Bool("svg", false, "SVG instead of PNG")
			size = fs.Int("size", 512, "PNG width in pixels")
		},
		run: func(c *invocation) int {
			if len(c.args) != 1 {
				fmt.Fprintln(os.Stderr, "usage: spoor link qr [-out FILE] [-svg] SLUG")
				return 2
			}
			u := c.cfg.LinksBaseURL() + c.cfg.Links.Prefix + "/" + url.PathEscape(c.args[0]) + "?qr=1"
			img, err := links.QRCode(u, *svg, *size)
			if err != nil {
				fmt.Fprintln(os.Stderr, "spoor link qr:", err)
				return 1
			}
			if *out == "" {
				_, _ = os.Stdout.Write(img)
				return 0
			}
			if err := os.WriteFile(*out, img, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "spoor link qr:", err)
				return 1
			}
			fmt.Fprintln(os.Stderr, "wrote", *out, "for", u)
			return 0
		}})
}

// parseExpiry reads an RFC 3339 time or a duration from now ("72h", "30d").
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, ok := parseSpan(s); ok {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("--expires %q: want RFC 3339 (2027-01-31T00:00:00Z) or a duration (72h, 30d)", s)
}

// linkAPI calls the admin API and decodes its answer into out; it prints
// the API's error and returns the exit code on failure.
func linkAPI(c *invocation, api, method, path string, body, out any) int {
	tok, err := adminToken(c.cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor link:", err)
		return 2
	}
	if api == "" {
		api = c.cfg.LinksBaseURL()
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(api, "/")+"/admin/api/links"+path, rd)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor link:", err)
		return 2
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor link: is the collector running? ", err)
		return 1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		var e struct{ Error, Reason string }
		_ = json.Unmarshal(b, &e)
		fmt.Fprintf(os.Stderr, "spoor link: %d %s: %s\n", res.StatusCode, e.Reason, e.Error)
		return 1
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			fmt.Fprintln(os.Stderr, "spoor link: reading the answer:", err)
			return 1
		}
	}
	return 0
}

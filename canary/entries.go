package canary

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/schema"
)

// Entry is one entry point: Send sends one marked event of visitor vid
// through it and fails unless it was answered as an accepted event is.
type Entry struct {
	Name string
	App  string // the app its events are stored under
	Send func(ctx context.Context, c *http.Client, vid string) error
}

// EntryOptions say where the entry points are.
type EntryOptions struct {
	Collector string // base URL
	App       string
	// SegmentKey is a Segment write key and SegmentApp its app; empty: no
	// Segment entry point.
	SegmentKey, SegmentApp string
	// Signer signs the redirect (links.signing_keys); nil or keyless: the
	// redirect goes to a relative path, which needs no signature.
	Signer *links.Signer
	// LinkSlug is the canary's short link (to App); empty: none.
	LinkSlug string
	// Proxy is the proxy's base URL and ProxyPath the page; ProxyApp its
	// events' app (proxy.app). Empty Proxy: no proxy entry point.
	Proxy, ProxyPath, ProxyApp string
}

// Entries are every entry point the options reach: tuplet GET and POST,
// JSON, batch, pixel, signed redirect, short link, Segment /v1/track and
// the proxy.
func Entries(o EntryOptions) []Entry {
	tuplets := func(vid, name string) string {
		return "/vid/" + url.PathEscape(vid) + "/ename/" + name + "/app/" + url.PathEscape(o.App)
	}
	json := func(vid string) string {
		return fmt.Sprintf(`{"vid":%q,"ename":"canary_json","app":%q}`, vid, o.App)
	}
	es := []Entry{
		{Name: "tuplet_get", Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "GET", o.Collector+"/tr/v1"+tuplets(vid, "canary_tuplet_get"), nil, nil, 200)
		}},
		{Name: "tuplet_post", Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "POST", o.Collector+"/tr/v1"+tuplets(vid, "canary_tuplet_post"), nil, nil, 200)
		}},
		{Name: "json", Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "POST", o.Collector+"/tr/v1/", []byte(json(vid)), map[string]string{"Content-Type": "application/json"}, 200)
		}},
		{Name: "batch", Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "POST", o.Collector+"/tr/v1/", []byte("["+json(vid)+"]"), map[string]string{"Content-Type": "application/json"}, 200)
		}},
		{Name: "pixel", Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "GET", o.Collector+"/img/v1"+tuplets(vid, "canary_pixel"), nil, nil, 200)
		}},
		{Name: "redirect", Send: func(ctx context.Context, c *http.Client, vid string) error {
			fields := []links.Field{{Key: "vid", Value: vid}, {Key: "ename", Value: "canary_redirect"}, {Key: "app", Value: o.App}}
			u, err := o.Signer.SignedURL(o.Collector, "/", fields)
			if err != nil { // no signing key: a relative target needs none
				u = o.Collector + "/rdr/v1" + tuplets(vid, "canary_redirect") + "?url=%2F"
			}
			return send(ctx, c, "GET", u, nil, nil, 302)
		}},
	}
	if o.LinkSlug != "" {
		es = append(es, Entry{Name: "short_link", Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "GET", o.Collector+"/l/"+url.PathEscape(o.LinkSlug), nil, map[string]string{"Cookie": "vid=" + vid}, 302)
		}})
	}
	if o.SegmentKey != "" {
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(o.SegmentKey+":"))
		es = append(es, Entry{Name: "segment_track", App: o.SegmentApp, Send: func(ctx context.Context, c *http.Client, vid string) error {
			body := fmt.Sprintf(`{"type":"track","event":"canary_segment","anonymousId":%q}`, vid)
			return send(ctx, c, "POST", o.Collector+"/v1/track", []byte(body), map[string]string{"Content-Type": "application/json", "Authorization": auth}, 200)
		}})
	}
	if o.Proxy != "" {
		es = append(es, Entry{Name: "proxy", App: o.ProxyApp, Send: func(ctx context.Context, c *http.Client, vid string) error {
			return send(ctx, c, "GET", o.Proxy+o.ProxyPath, nil, map[string]string{"Cookie": "vid=" + vid}, 0)
		}})
	}
	for i := range es {
		if es[i].App == "" && es[i].Name != "proxy" {
			es[i].App = o.App
		}
	}
	return es
}

// send makes one marked request; want is the status that means accepted
// (0: any 2xx or 3xx).
func send(ctx context.Context, c *http.Client, method, u string, body []byte, headers map[string]string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(schema.CanaryHeader, "1")
	req.Header.Set("User-Agent", "spoor-canary")
	req.Header.Set("Accept-Language", "en")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if want != 0 && resp.StatusCode != want || want == 0 && (resp.StatusCode < 200 || resp.StatusCode >= 400) {
		return fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, b)
	}
	return nil
}

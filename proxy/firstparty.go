package proxy

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/valyala/fasthttp"
)

// First-party mode: under a prefix on the customer's own domain the proxy
// forwards the collector's browser endpoints and the SDK, so blockers that
// refuse third-party trackers see a first-party request. The collector
// gets the client's address in X-Forwarded-For (it must trust this proxy).
var firstPartyPaths = []string{"/tr/v1", "/img/v1", "/rdr/v1", "/sdk"}

func firstParty(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return false
	}
	for _, fp := range firstPartyPaths {
		if rest == fp || strings.HasPrefix(rest, fp+"/") {
			return true
		}
	}
	return false
}

func (p *Proxy) rewriteFirstParty(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(stateKey).(*state)
	pr.SetURL(p.o.Collector)
	path := strings.TrimPrefix(pr.In.URL.Path, p.o.FirstPartyPrefix)
	raw := strings.TrimPrefix(pr.In.URL.RawPath, p.o.FirstPartyPrefix)
	pr.Out.URL.Path = singleJoin(p.o.Collector.Path, path)
	if pr.In.URL.RawPath != "" {
		pr.Out.URL.RawPath = singleJoin(p.o.Collector.Path, raw)
	}
	p.forwarded(pr, st)
}

func singleJoin(a, b string) string {
	return strings.TrimSuffix(a, "/") + b
}

func (p *Proxy) collectorError(w http.ResponseWriter, r *http.Request, err error) {
	p.log.Warn().Err(err).Str("path", r.URL.Path).Msg("collector unreachable for a first-party request")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, `{"error":"collector_unavailable","reason":"the collector behind this site cannot be reached; retry later"}`)
}

// fastFirstParty is rewriteFirstParty and the forwarding for the fasthttp
// engine: the request goes to the collector with the prefix removed.
func (p *Proxy) fastFirstParty(ctx *fasthttp.RequestCtx, st *state) {
	out := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(out)
	p.fastOutgoing(ctx, out, st, false)
	raw := strings.TrimPrefix(string(ctx.Request.Header.RequestURI()), p.o.FirstPartyPrefix)
	out.SetRequestURI(singleJoin(p.o.Collector.Path, raw))
	if cl := ctx.Request.Header.ContentLength(); cl > 0 || cl == -1 {
		out.SetBodyStream(ctx.RequestBodyStream(), cl)
	}
	resp := &ctx.Response
	if err := p.fpFast.Do(out, resp); err != nil {
		p.log.Warn().Err(err).Str("path", string(ctx.Path())).Msg("collector unreachable for a first-party request")
		resp.Reset()
		ctx.SetConnectionClose()
		fastJSON(ctx, http.StatusServiceUnavailable, `{"error":"collector_unavailable","reason":"the collector behind this site cannot be reached; retry later"}`)
		return
	}
	stripHopResponse(&resp.Header)
	resp.Header.SetNoDefaultContentType(true)
}

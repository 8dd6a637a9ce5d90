// Command proxyproto is the measurement behind docs/decisions/0003: the
// same minimal reverse proxy (no tracking, one upstream) built on
// net/http's httputil.ReverseProxy and on fasthttp's HostClient, so
// scripts/bench/proxy.sh can put wrk in front of each, and of the backend
// alone, in one session.
//
//	go run ./scripts/bench/proxyproto -impl nethttp -addr 127.0.0.1:18091 -upstream 127.0.0.1:18082
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/valyala/fasthttp"
)

func main() {
	impl := flag.String("impl", "nethttp", "nethttp or fasthttp")
	addr := flag.String("addr", "127.0.0.1:18091", "listen address")
	upstream := flag.String("upstream", "127.0.0.1:18082", "backend host:port")
	flag.Parse()
	switch *impl {
	case "nethttp":
		u := &url.URL{Scheme: "http", Host: *upstream}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 256
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() }, Transport: tr,
			ErrorLog: log.New(io.Discard, "", 0)} // wrk hanging up at the end of a run is no error worth a line
		log.Fatal(http.ListenAndServe(*addr, rp))
	case "fasthttp":
		c := &fasthttp.HostClient{Addr: *upstream, MaxConns: 256}
		h := func(ctx *fasthttp.RequestCtx) {
			req, resp := &ctx.Request, &ctx.Response
			req.Header.Del("Connection")
			req.Header.Add("X-Forwarded-For", ctx.RemoteIP().String())
			if err := c.Do(req, resp); err != nil {
				ctx.Error("bad gateway", fasthttp.StatusBadGateway)
			}
			resp.Header.Del("Connection")
		}
		log.Fatal((&fasthttp.Server{Handler: h}).ListenAndServe(*addr))
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
}

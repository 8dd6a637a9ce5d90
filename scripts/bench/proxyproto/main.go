// Command proxyproto is the measurement behind docs/decisions/0003: the
// same minimal reverse proxy (no tracking, one upstream) built on
// net/http's httputil.ReverseProxy, on fasthttp's HostClient, and on
// net/http's server with fasthttp's client (hybrid: is the server or the
// client side the cost?), so scripts/bench/proxy.sh can put wrk and the
// open-loop loadgen in front of each, and of the backend alone, in one
// session.
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
	case "hybrid": // net/http towards clients, fasthttp's HostClient towards the upstream
		c := &fasthttp.HostClient{Addr: *upstream, MaxConns: 256, StreamResponseBody: true}
		h := func(w http.ResponseWriter, r *http.Request) {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.Header.SetMethod(r.Method)
			req.SetRequestURI(r.URL.RequestURI())
			req.Header.SetHost(r.Host)
			for k, vs := range r.Header {
				if k == "Connection" {
					continue
				}
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			req.Header.Add("X-Forwarded-For", r.RemoteAddr)
			if r.ContentLength != 0 {
				req.SetBodyStream(r.Body, int(r.ContentLength))
			}
			if err := c.Do(req, resp); err != nil {
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			hd := w.Header()
			for k, v := range resp.Header.All() {
				if string(k) == "Connection" {
					continue
				}
				hd.Add(string(k), string(v))
			}
			w.WriteHeader(resp.StatusCode())
			if bs := resp.BodyStream(); bs != nil {
				_, _ = io.Copy(w, bs)
				resp.CloseBodyStream()
			} else {
				_, _ = w.Write(resp.Body())
			}
		}
		log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(h)))
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
}

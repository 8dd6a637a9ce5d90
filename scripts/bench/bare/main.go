// Command bare is a fasthttp server that reads each request and answers 204:
// the ceiling of the HTTP library spoor's collector is built on, measured
// beside nginx by scripts/bench/run.sh.
//
//	go run ./scripts/bench/bare -addr 127.0.0.1:18082
package main

import (
	"flag"
	"log"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18082", "listen address")
	lowMem := flag.Bool("low-memory", false, "the collector's idle-connection settings: ReduceMemoryUsage and its 16 KiB read buffer")
	flag.Parse()
	srv := &fasthttp.Server{
		Handler:               func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusNoContent) },
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
	}
	if *lowMem {
		srv.ReduceMemoryUsage, srv.ReadBufferSize = true, 16<<10
	}
	log.Fatal(srv.ListenAndServe(*addr))
}

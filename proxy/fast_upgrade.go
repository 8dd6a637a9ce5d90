package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// fastUpgrade passes an upgrade (WebSocket) through the fasthttp engine:
// the request goes to the upstream on a connection of its own; a 101
// answer is written to the client's hijacked connection as it came (with
// Via), and from then the proxy is a pipe both ways. Any other answer is
// passed on as an ordinary response.
func (p *Proxy) fastUpgrade(ctx *fasthttp.RequestCtx, x *exchange) {
	st := x.st
	st.up = p.pool.pick(nil)
	out := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(out)
	p.fastOutgoing(ctx, out, st, true)
	up, err := p.dialUpgrade(st.up)
	if err != nil {
		if isDialError(err) {
			p.pool.failed(st.up)
		}
		p.log.Warn().Err(err).Str("upstream", st.up.url.Host).Msg("upstream failed for an upgrade")
		x.finish(ctx, http.StatusBadGateway, `{"error":"upstream_unavailable","status":502}`)
		return
	}
	bw := bufio.NewWriter(up)
	_ = up.SetDeadline(time.Now().Add(p.o.ResponseHeaderTimeout))
	if err := out.Header.Write(bw); err != nil || bw.Flush() != nil {
		up.Close()
		x.finish(ctx, http.StatusBadGateway, `{"error":"upstream_unavailable","status":502}`)
		return
	}
	br := bufio.NewReader(up)
	resp := fasthttp.AcquireResponse()
	resp.Header.SetNoDefaultContentType(true)
	if err := resp.Header.Read(br); err != nil {
		fasthttp.ReleaseResponse(resp)
		up.Close()
		code := http.StatusBadGateway
		if isTimeout(err) {
			code = http.StatusGatewayTimeout
		}
		x.finish(ctx, code, `{"error":"upstream_unavailable","status":`+strconv.Itoa(code)+`}`)
		return
	}
	_ = up.SetDeadline(time.Time{})
	p.pool.succeeded(st.up)
	if resp.StatusCode() != http.StatusSwitchingProtocols {
		// Refused: the upstream's answer, read whole (it is an error
		// page), and the connection closed behind it.
		err := resp.ReadBody(br, 1<<20)
		up.Close()
		if err != nil {
			fasthttp.ReleaseResponse(resp)
			x.finish(ctx, http.StatusBadGateway, `{"error":"upstream_unavailable","status":502}`)
			return
		}
		x.answer(ctx, resp)
		return
	}
	x.status = http.StatusSwitchingProtocols
	head := []byte("HTTP/1.1 101 Switching Protocols\r\n")
	for k, v := range resp.Header.All() {
		head = append(append(append(append(head, k...), ": "...), v...), "\r\n"...)
	}
	if p.o.Via != "" {
		head = append(head, "Via: "+p.via[1]+"\r\n"...)
	}
	head = append(head, "\r\n"...)
	fasthttp.ReleaseResponse(resp)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer x.done()
		defer up.Close()
		if _, err := c.Write(head); err != nil {
			return
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // client → upstream
			defer wg.Done()
			n, _ := io.Copy(up, c)
			x.inBytes(n)
			if tc, ok := up.(interface{ CloseWrite() error }); ok {
				_ = tc.CloseWrite()
			}
		}()
		n, _ := io.Copy(c, br) // upstream → client, what was read ahead first
		x.out += n
		_ = c.Close() // ends the other direction's copy
		wg.Wait()
	})
}

// dialUpgrade opens a connection of its own to u for an upgrade.
func (p *Proxy) dialUpgrade(u *upstream) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: p.o.DialTimeout, KeepAlive: 30 * time.Second}).Dial("tcp", u.fast.Addr)
	if err != nil || !u.fast.IsTLS {
		return c, err
	}
	tc := tls.Client(c, u.fast.TLSConfig)
	_ = tc.SetDeadline(time.Now().Add(p.o.DialTimeout))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, nil
}

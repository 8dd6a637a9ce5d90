package collector

import (
	"io"
	"net"
	"sync"
	"time"
)

// Lingering close. When the collector refuses a request before reading
// all of it (a body over http.max_body_bytes, headers over
// http.max_header_bytes), fasthttp writes the answer and closes the
// connection while the client may still be sending. Closing a socket with
// unread bytes makes the kernel send a reset, and a reset can destroy the
// answer in the client's receive buffer before the client reads it: the
// client then sees "connection reset by peer" instead of the 413 and
// retries a body that can never fit. So every close is lingering (as
// Apache httpd and nginx do): send FIN after the answer, read and discard
// what the client still sends, for at most lingerTime and lingerBytes,
// then close. A client that reads its answer and closes ends the linger at
// once.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 8 << 20
	lingerMax   = 4096 // connections lingering at once; beyond, close at once
)

// lingerListener wraps accepted TCP connections so their Close lingers.
type lingerListener struct {
	net.Listener
	slots chan struct{}
}

func newLingerListener(ln net.Listener) net.Listener {
	return &lingerListener{Listener: ln, slots: make(chan struct{}, lingerMax)}
}

func (l *lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	return &lingerConn{TCPConn: tc, slots: l.slots}, nil
}

// lingerConn is a TCP connection whose Close returns at once and lingers
// in the background.
type lingerConn struct {
	*net.TCPConn
	slots chan struct{}
	once  sync.Once
}

func (c *lingerConn) Close() error {
	var err error
	c.once.Do(func() {
		select {
		case c.slots <- struct{}{}:
		default:
			err = c.TCPConn.Close() // too many lingering: plain close
			return
		}
		if err = c.TCPConn.CloseWrite(); err != nil {
			<-c.slots
			err = c.TCPConn.Close()
			return
		}
		go func() {
			defer func() { <-c.slots }()
			_ = c.TCPConn.SetReadDeadline(time.Now().Add(lingerTime))
			_, _ = io.CopyN(io.Discard, c.TCPConn, lingerBytes)
			_ = c.TCPConn.Close()
		}()
	})
	return err
}

// Package bus is the only package that imports the NATS client and server.
// It starts the embedded JetStream server, connects, declares the streams,
// publishes events (deduplicated by Nats-Msg-Id) and hands sink workers
// their messages.
package bus

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded is an in-process nats-server with JetStream on a file store.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts a single-node JetStream server storing under dir.
// listen is an optional "host:port" for outside clients (empty: in-process
// connections only).
func StartEmbedded(dir, listen string) (*Embedded, error) {
	opts := &server.Options{
		ServerName:         "spoor-embedded",
		JetStream:          true,
		StoreDir:           dir,
		DontListen:         listen == "",
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 64 << 20,
	}
	if listen != "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("parsing nats.listen %q: %w", listen, err)
		}
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("parsing nats.listen port %q: %w", port, err)
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("creating embedded nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats server not ready after 15s")
	}
	return &Embedded{srv: srv}, nil
}

// ClientURL is the TCP URL when the server listens, else "".
func (e *Embedded) ClientURL() string {
	if e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

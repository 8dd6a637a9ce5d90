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
	return StartNode(NodeOptions{Name: "spoor-embedded", Dir: dir, Listen: listen})
}

// NodeOptions describes one JetStream server; with Cluster set it is one
// node of a cluster (tests start three of them in one process).
type NodeOptions struct {
	Name        string   // unique server name
	Dir         string   // JetStream store
	Listen      string   // "host:port" for clients; empty: in-process only
	ClusterName string   // with Cluster: the cluster's name
	Cluster     string   // "host:port" for routes from the other nodes
	Routes      []string // the other nodes' cluster URLs (nats://host:port)
}

// StartNode starts a JetStream server as o describes and waits until it
// takes connections.
func StartNode(o NodeOptions) (*Embedded, error) {
	opts := &server.Options{
		ServerName:         o.Name,
		JetStream:          true,
		StoreDir:           o.Dir,
		DontListen:         o.Listen == "",
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 64 << 20,
	}
	if o.Listen != "" {
		host, port, err := splitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("parsing nats.listen %q: %w", o.Listen, err)
		}
		opts.Host, opts.Port = host, port
	}
	if o.Cluster != "" {
		host, port, err := splitHostPort(o.Cluster)
		if err != nil {
			return nil, fmt.Errorf("parsing cluster address %q: %w", o.Cluster, err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: host, Port: port}
		for _, r := range o.Routes {
			opts.Routes = append(opts.Routes, server.RoutesFromStr(r)...)
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("creating nats server %s: %w", o.Name, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server %s not ready after 15s", o.Name)
	}
	return &Embedded{srv: srv}, nil
}

func splitHostPort(hp string) (string, int, error) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", port, err)
	}
	return host, n, nil
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

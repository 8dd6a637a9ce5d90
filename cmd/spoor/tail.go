package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/live"
	"github.com/spoor-dev/spoor/schema"
)

// adminToken is the first of admin.tokens, else the token `spoor
// run` keeps in the data dir.
func adminToken(cfg config.Config) (string, error) {
	if len(cfg.AdminTokens()) > 0 {
		return cfg.AdminTokens()[0], nil
	}
	t, err := app.ReadLocalAdminToken(cfg.DataDir)
	if err != nil {
		return "", fmt.Errorf("no admin token: set admin.tokens (SPOOR_ADMIN_TOKENS), or run this where `spoor run` keeps its data (%s/%s): %w",
			cfg.DataDir, app.LocalTokenFile, err)
	}
	return t, nil
}

func init() {
	var f live.Filter
	var since *time.Duration
	var asJSON *bool
	var url *string
	var count *int
	register(command{name: "tail", usage: "[--app A] [--event E] [--visitor V] [--endpoint tr|str|img|rdr] [--since 30s] [--json]",
		short: "follow events as the pipeline acknowledges them (from the stream, not a store)",
		flags: func(fs *flag.FlagSet) {
			f = live.Filter{}
			fs.StringVar(&f.App, "app", "", "only this app (comma list)")
			fs.StringVar(&f.Event, "event", "", "only these event names (comma list)")
			fs.StringVar(&f.Visitor, "visitor", "", "only this visitor id (comma list)")
			fs.StringVar(&f.Endpoint, "endpoint", "", "only events that came in on tr, str, img or rdr (comma list)")
			since = fs.Duration("since", 0, "start this far back (at most 1h), not at the next event")
			asJSON = fs.Bool("json", false, "JSON lines even on a terminal (the default when piped)")
			url = fs.String("url", "", "the collector (default: links.base_url, else http://http.addr); with nats.url set, the stream is read directly")
			count = fs.Int("n", 0, "stop after this many events (0: follow until interrupted)")
		},
		run: func(c *invocation) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			pretty := !*asJSON && isTerminal(os.Stdout)
			width, _ := strconv.Atoi(os.Getenv("COLUMNS"))
			n := 0
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			print := func(line []byte, e *schema.Event) {
				if pretty {
					fmt.Fprintln(out, live.Line(e, width))
				} else {
					out.Write(line)
					out.WriteByte('\n')
				}
				out.Flush()
				if n++; *count > 0 && n >= *count {
					cancel()
				}
			}
			var err error
			if c.cfg.NATS.URL != "" && *url == "" {
				err = tailBus(ctx, c.cfg, f, *since, print)
			} else {
				err = tailHTTP(ctx, c.cfg, *url, f, *since, print)
			}
			if err != nil && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "spoor tail:", err)
				return 1
			}
			return 0
		}})
}

// tailBus follows the stream directly: a cluster's NATS (nats.url).
func tailBus(ctx context.Context, cfg config.Config, f live.Filter, since time.Duration, print func([]byte, *schema.Event)) error {
	b, err := bus.Connect(app.BusOptions(cfg), nil, zerolog.Nop())
	if err != nil {
		return err
	}
	defer b.Close()
	return b.Tail(ctx, since, func(data []byte) {
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if x, err := live.FieldsOf(line); err == nil && f.MatchFields(x) {
				if e, err := schema.Decode(line); err == nil {
					print(line, e)
				}
			}
		}
	}, func() {
		fmt.Fprintf(os.Stderr, "spoor tail: following %s on %s (Ctrl-C to stop)\n", cfg.NATS.Stream, cfg.NATS.URL)
	})
}

// tailHTTP reads a collector's live view (GET /admin/api/tail, server-sent
// events): `spoor run` on this machine needs no setup.
func tailHTTP(ctx context.Context, cfg config.Config, base string, f live.Filter, since time.Duration, print func([]byte, *schema.Event)) error {
	tok, err := adminToken(cfg)
	if err != nil {
		return err
	}
	if base == "" {
		base = cfg.LinksBaseURL()
	}
	q := f.Query()
	if since > 0 {
		q.Set("since", since.String())
	}
	u := strings.TrimSuffix(base, "/") + "/admin/api/tail?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("is spoor running? %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("%s: %s %s", u, res.Status, strings.TrimSpace(string(b)))
	}
	fmt.Fprintf(os.Stderr, "spoor tail: connected to %s, waiting for the stream\n", base)
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var event string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data := []byte(line[len("data: "):])
			switch event {
			case "event":
				if e, err := schema.Decode(data); err == nil {
					print(data, e)
				}
			case "dropped":
				fmt.Fprintf(os.Stderr, "spoor tail: too slow, missed events: %s\n", data)
			case "ready":
				fmt.Fprintf(os.Stderr, "spoor tail: following %s (Ctrl-C to stop)\n", base)
			}
		case line == "":
			event = ""
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spoor-dev/spoor/internal/importer"
)

func init() {
	var format, mapping, api *string
	register(command{name: "import", usage: "FILE [-format csv|ndjson] [-mapping map.json]",
		short: "import offline events (CSV or NDJSON) through a running collector; re-running a file changes nothing",
		flags: func(fs *flag.FlagSet) {
			format = fs.String("format", "", "csv or ndjson (default: from the file name)")
			mapping = fs.String("mapping", "", `JSON file mapping CSV columns to fields: {"Order total": "revenue", "Skip me": ""}`)
			api = fs.String("api", "", "the collector's URL (default: links.base_url, else http://http.addr)")
		},
		run: func(c *invocation) int { return runImport(c, *format, *mapping, *api) }})
}

func runImport(c *invocation, format, mappingFile, api string) int {
	if len(c.args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: spoor import [-format csv|ndjson] [-mapping map.json] FILE")
		return 2
	}
	f, err := os.Open(c.args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor import:", err)
		return 2
	}
	defer f.Close()
	o := importer.Options{Format: format, BatchSize: min(c.cfg.Collector.MaxBatchEvents, 500)}
	if mappingFile != "" {
		b, err := os.ReadFile(mappingFile)
		if err == nil {
			err = json.Unmarshal(b, &o.Mapping)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "spoor import: reading the mapping:", err)
			return 2
		}
	}
	if api == "" {
		api = c.cfg.LinksBaseURL()
	}
	s := &httpSender{url: strings.TrimSuffix(api, "/") + "/str/v1/", client: &http.Client{Timeout: 60 * time.Second}}
	if len(c.cfg.Collector.ServerTokens) > 0 {
		s.token = c.cfg.Collector.ServerTokens[0]
	}
	start := time.Now()
	if st, err := f.Stat(); err == nil && isTerminal(os.Stderr) {
		total := st.Size()
		o.Progress = func(n int64) {
			fmt.Fprintf(os.Stderr, "\rspoor import: %5.1f%% of %s, %d rows/s   ", 100*float64(n)/float64(max(total, 1)),
				c.args[0], int(float64(s.sent.Load())/time.Since(start).Seconds()))
		}
	}
	res, err := importer.Import(f, c.args[0], o, s)
	if o.Progress != nil {
		fmt.Fprintln(os.Stderr)
	}
	el := time.Since(start)
	fmt.Printf("%d rows read, %d imported, %d refused, in %s (%.0f rows/s)\n", res.Rows, res.Imported, len(res.Bad),
		el.Round(time.Millisecond), float64(res.Rows)/el.Seconds())
	for i, b := range res.Bad {
		if i == 20 {
			fmt.Printf("  … and %d more\n", len(res.Bad)-20)
			break
		}
		fmt.Printf("  line %d: %s\n", b.Line, b.Reason)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor import: stopped:", err)
		return 1
	}
	if len(res.Bad) > 0 {
		return 3 // imported what was good; some rows need fixing
	}
	return 0
}

// httpSender posts batches to the collector's server-side endpoint, which
// answers once they are durable; 429 and 503 are retried after their
// Retry-After, anything else refused ends the import.
type httpSender struct {
	url, token string
	client     *http.Client
	sent       atomic.Int64
}

func (s *httpSender) Send(events []json.RawMessage) error {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(e)
	}
	body.WriteByte(']')
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest("POST", s.url, bytes.NewReader(body.Bytes()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if s.token != "" {
			req.Header.Set("Authorization", "Bearer "+s.token)
		}
		res, err := s.client.Do(req)
		if err != nil {
			if attempt < 5 {
				time.Sleep(time.Second << attempt)
				continue
			}
			return fmt.Errorf("is the collector running? %w", err)
		}
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		switch {
		case res.StatusCode == 200:
			s.sent.Add(int64(len(events)))
			return nil
		case (res.StatusCode == 429 || res.StatusCode == 503) && attempt < 20:
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		default:
			return fmt.Errorf("the collector answered %d: %s", res.StatusCode, bytes.TrimSpace(msg))
		}
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

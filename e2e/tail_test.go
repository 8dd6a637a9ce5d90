package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// tailCmd starts `spoor tail` against the test's running pipeline with no
// setup but its data dir (the admin token spoor run keeps there) and
// address, stdout piped (JSON lines).
func tailCmd(t *testing.T, dir, addr string, args ...string) (*exec.Cmd, *bytes.Buffer, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(spoorBinary(t), append([]string{"-config", "../config.json", "tail"}, args...)...)
	cmd.Env = append(cmd.Environ(), "SPOOR_DATA_DIR="+dir, "SPOOR_HTTP_ADDR="+addr)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &out, bufio.NewScanner(stderr)
}

func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("spoor tail: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("spoor tail did not finish within %s", d)
	}
}

func decodeLines(t *testing.T, b []byte) []*schema.Event {
	t.Helper()
	var out []*schema.Event
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		if len(l) == 0 {
			continue
		}
		e, err := schema.Decode(l)
		if err != nil {
			t.Fatalf("a line that is not an event: %s", l)
		}
		out = append(out, e)
	}
	return out
}

// spoor tail on the embedded default: events sent after it starts come out
// as JSON lines, filtered; --since looks back.
func TestTailFollowsTheStream(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir))
	defer a.Stop()
	base := "http://" + a.Addr()
	send := func(body string) {
		if r := do(t, "POST", base+"/tr/v1/", []byte(body), nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	send(`{"app":"shop","ename":"click","vid":"early"}`)
	send(`{"app":"shop","ename":"page_view","vid":"early"}`)

	// Live: the first two clicks of visitor v1 sent after the tail started.
	cmd, out, stderr := tailCmd(t, dir, a.Addr(), "--event", "click", "--visitor", "v1", "-n", "2")
	// "following" comes once the collector's subscription delivers.
	for stderr.Scan() && !strings.Contains(stderr.Text(), "following") {
	}
	if !strings.Contains(stderr.Text(), "following") {
		t.Fatalf("spoor tail did not start: %q", stderr.Text())
	}
	// The tail's subscription starts at the next message: send until it has
	// its two lines.
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for ctx.Err() == nil { // not t.Fatal: this is not the test's goroutine
			for _, b := range []string{`{"app":"shop","ename":"page_view","vid":"v1"}`, `{"app":"shop","ename":"click","vid":"v2"}`,
				`{"app":"shop","ename":"click","vid":"v1","url":"https://shop.example/x"}`} {
				if r, err := client.Post(base+"/tr/v1/", "text/plain", strings.NewReader(b)); err == nil {
					r.Body.Close()
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	waitExit(t, cmd, 15*time.Second)
	stop()
	<-sent
	evs := decodeLines(t, out.Bytes())
	if len(evs) != 2 {
		t.Fatalf("got %d lines:\n%s", len(evs), out.String())
	}
	for _, e := range evs {
		if e.EventName != "click" || e.VisitorID != "v1" || e.URL != "https://shop.example/x" {
			t.Fatalf("an event the filters exclude: %+v", e)
		}
	}

	// A look back: the early events, already stored or not, from the stream.
	cmd, out, _ = tailCmd(t, dir, a.Addr(), "--since", "1m", "--visitor", "early", "-n", "2")
	waitExit(t, cmd, 15*time.Second)
	evs = decodeLines(t, out.Bytes())
	if len(evs) != 2 || evs[0].EventName != "click" || evs[1].EventName != "page_view" {
		t.Fatalf("look back:\n%s", out.String())
	}
}

// Without the data dir's token, and with a wrong one, the live view is refused.
func TestTailNeedsTheAdminToken(t *testing.T) {
	dir := t.TempDir()
	a := start(t, testConfig(dir))
	defer a.Stop()
	if r := do(t, "GET", "http://"+a.Addr()+"/admin/api/tail", nil, nil); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
	if r := do(t, "GET", "http://"+a.Addr()+"/admin/api/tail", nil, map[string]string{"Authorization": "Bearer wrong"}); r.status != 401 {
		t.Fatalf("wrong token: %d", r.status)
	}
	cmd := exec.Command(spoorBinary(t), "-config", "../config.json", "tail", "-n", "1")
	cmd.Env = append(cmd.Environ(), "SPOOR_DATA_DIR="+t.TempDir(), "SPOOR_HTTP_ADDR="+a.Addr())
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "no admin token") {
		t.Fatalf("spoor tail without a token: %v\n%s", err, b)
	}
}

// On a cluster (nats.url, three partitions at R3), `spoor tail` reads the
// streams directly, every partition, with no admin token.
func TestTailOnACluster(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.NATS.URL = startNATSCluster(t, filepath.Join(dir, "nats")).URL()
	cfg.NATS.Replicas, cfg.NATS.Partitions = 3, 3
	a := start(t, cfg)
	defer a.Stop()
	var body []string
	for v := range 12 {
		body = append(body, fmt.Sprintf(`{"app":"cl","ename":"step","vid":"visitor-%02d"}`, v))
	}
	if r := do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte("["+strings.Join(body, ",")+"]"), nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	cmd := exec.Command(spoorBinary(t), "-config", "../config.json", "tail", "--since", "1m", "--app", "cl", "-n", "12")
	cmd.Env = append(cmd.Environ(), "SPOOR_DATA_DIR="+t.TempDir(), "SPOOR_NATS_URL="+cfg.NATS.URL, "SPOOR_NATS_PARTITIONS=3")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitExit(t, cmd, 20*time.Second)
	seen := map[string]bool{}
	for _, e := range decodeLines(t, out.Bytes()) {
		seen[e.VisitorID] = true
	}
	if len(seen) != 12 {
		t.Fatalf("saw %d of 12 visitors (3 partitions):\n%s\n%s", len(seen), out.String(), errb.String())
	}
}

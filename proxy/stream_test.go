//go:build !race

// The race detector makes 2 GiB of copying take most of a minute; `make
// unit` runs this file without it.

package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const gib = 1 << 30

// pattern is an endless reader of a repeating block: a body of any size
// without holding it.
type pattern struct {
	block []byte
	left  int64
	off   int
}

func newPattern(n int64) *pattern {
	return &pattern{block: bytes.Repeat([]byte("spoor streams "), 4096), left: n}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.block[p.off:])
	if int64(n) > p.left {
		n = int(p.left)
	}
	p.off = (p.off + n) % len(p.block)
	p.left -= int64(n)
	return n, nil
}

// readRSS is this process's resident memory in MB. It only returns an
// error: the sampling goroutine may not stop the test itself.
func readRSS() (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}

// rssMB is readRSS for the test's own goroutine: no /proc skips the test.
func rssMB(t *testing.T) float64 {
	mb, err := readRSS()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no /proc/self/status")
	}
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// A 1 GiB upload and a 1 GiB download pass through the proxy with flat
// memory: bodies stream, nothing is buffered whole (the older Tracker read
// every body before it proxied). The resident memory of this whole test
// process (client, proxy and backend) may not grow by 50 MB.
func TestStreamsOneGiBBothWays(t *testing.T) { eachEngine(t, testStreamsOneGiBBothWays) }

func testStreamsOneGiBBothWays(t *testing.T, e engine) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "%d %v", n, err)
		default:
			w.Header().Set("Content-Length", strconv.Itoa(gib))
			io.Copy(w, newPattern(gib))
		}
	}))
	defer backend.Close()
	tr := &hits{}
	px := start(t, e, testOptions(backend.URL), tr)

	before := rssMB(t)
	var peak atomic.Uint64
	var sampleErr error // set by the sampler, read after sampled closes
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			mb, err := readRSS()
			if err != nil {
				sampleErr = err
				return
			}
			if v := uint64(mb); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	req, _ := http.NewRequest(http.MethodPut, px.URL+"/upload", newPattern(gib))
	req.ContentLength = gib
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != fmt.Sprintf("%d <nil>", gib) {
		t.Fatalf("backend read %q of the upload", body)
	}
	resp, err = http.Get(px.URL + "/download")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != gib {
		t.Fatalf("downloaded %d bytes: %v", n, err)
	}
	close(stop)
	<-sampled
	if sampleErr != nil {
		t.Fatalf("sampling the resident memory: %v", sampleErr)
	}
	growth := float64(peak.Load()) - before
	t.Logf("RSS %.0f MB before, peak %d MB: +%.0f MB for 2 GiB through the proxy", before, peak.Load(), growth)
	if growth > 50 {
		t.Errorf("resident memory grew by %.0f MB streaming 1 GiB each way; bodies must stream", growth)
	}
	got := tr.waitHits(t, 2)
	if field(got[0], "bytes_in") != strconv.Itoa(gib) || field(got[1], "bytes_out") != strconv.Itoa(gib) {
		t.Errorf("tracked bytes in %s, out %s", field(got[0], "bytes_in"), field(got[1], "bytes_out"))
	}
}

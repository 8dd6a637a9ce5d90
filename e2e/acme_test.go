package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
)

// pebbleVersion is Let's Encrypt's ACME test server, built from its Go
// module: a real ACME server (account, order, http-01 or tls-alpn-01
// validation against our listener, issuance), not a stand-in.
const pebbleVersion = "v2.10.3"

var pebbleOnce sync.Once
var pebbleBin, pebbleSrc string
var pebbleErr error

// pebble builds pebble and pebble-challtestsrv (its DNS server, which
// answers every name with 127.0.0.1) once per machine.
func pebble(t *testing.T) (bin, src string) {
	t.Helper()
	pebbleOnce.Do(func() {
		pebbleBin = filepath.Join(os.TempDir(), "spoor-pebble-"+pebbleVersion)
		cmd := exec.Command("go", "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@"+pebbleVersion,
			"github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@"+pebbleVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+pebbleBin, "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			pebbleErr = fmt.Errorf("building pebble %s: %v\n%s", pebbleVersion, err, out)
			return
		}
		out, err := exec.Command("go", "mod", "download", "-json", "github.com/letsencrypt/pebble/v2@"+pebbleVersion).Output()
		if err != nil {
			pebbleErr = fmt.Errorf("locating pebble's sources: %v", err)
			return
		}
		var m struct{ Dir string }
		if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
			pebbleErr = fmt.Errorf("locating pebble's sources: %v %s", err, out)
			return
		}
		pebbleSrc = m.Dir
	})
	if pebbleErr != nil {
		t.Fatal(pebbleErr) // never a skip: the ACME path must be proven
	}
	return pebbleBin, pebbleSrc
}

func startProc(t *testing.T, name string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", filepath.Base(name), log.String())
		}
	})
}

// HTTPS for an allow-listed host from a real ACME server: the proxy gets
// its certificate on the first TLS handshake, answers over HTTP/2 with it,
// refuses to ask for any other name, and its plain-HTTP port redirects.
func TestProxyACMECertificate(t *testing.T) {
	bin, src := pebble(t)
	dir := t.TempDir()
	dns, acmeAddr, acmeMgmt, httpAddr, httpsAddr := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)
	startProc(t, filepath.Join(bin, "pebble-challtestsrv"), nil, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-dnsserver", dns, "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-management", freePort(t))
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress": acmeAddr, "managementListenAddress": acmeMgmt,
		"certificate": filepath.Join(src, "test/certs/localhost/cert.pem"), "privateKey": filepath.Join(src, "test/certs/localhost/key.pem"),
		"httpPort": atoi(httpPort), "tlsPort": atoi(httpsPort), "ocspResponderURL": "", "externalAccountBindingRequired": false,
		"keyAlgorithm": "ecdsa", "profiles": map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 7776000}},
	}}
	b, _ := json.Marshal(cfg)
	pcfg := filepath.Join(dir, "pebble.json")
	os.WriteFile(pcfg, b, 0o644)
	startProc(t, filepath.Join(bin, "pebble"), []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"},
		"-config", pcfg, "-dnsserver", dns)
	minica := filepath.Join(src, "test/certs/pebble.minica.pem")
	waitTLS(t, acmeAddr, minica)

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "shop over %s", r.Header.Get("X-Forwarded-Proto"))
	}))
	defer backend.Close()
	c := testConfig(dir)
	p := &c.Proxy
	p.Enabled, p.Addr, p.TLSAddr, p.Upstreams = true, httpAddr, httpsAddr, []string{backend.URL}
	p.ACMEHosts, p.ACMEDirectory, p.ACMECAFile = []string{"shop.example.test"}, "https://localhost:"+port(acmeAddr)+"/dir", minica
	p.ACMECacheDir = filepath.Join(dir, "acme")
	a := startRoles(t, c, app.Roles{Collector: true, Sink: true, Proxy: true})
	defer a.Stop()

	roots := pebbleRoots(t, acmeMgmt, minica)
	client := func(name string) *http.Client {
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: name},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
			},
		}}
	}
	resp, err := client("shop.example.test").Get("https://shop.example.test:" + httpsPort + "/page")
	if err != nil {
		t.Fatalf("HTTPS with the ACME certificate: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "shop over https" || resp.Proto != "HTTP/2.0" {
		t.Fatalf("%s %d %q", resp.Proto, resp.StatusCode, body)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if err := leaf.VerifyHostname("shop.example.test"); err != nil || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Fatalf("certificate for %v issued by %q: %v", leaf.DNSNames, leaf.Issuer.CommonName, err)
	}
	if _, err := client("evil.example.test").Get("https://evil.example.test:" + httpsPort + "/"); err == nil {
		t.Fatal("a certificate was served for a host outside proxy.acme_hosts")
	}
	r := do(t, "POST", "http://"+httpAddr+"/cart?x=1", []byte("{}"), map[string]string{"Host": "shop.example.test"})
	if r.status != http.StatusPermanentRedirect || r.header.Get("Location") != "https://shop.example.test:"+httpsPort+"/cart?x=1" {
		t.Fatalf("plain HTTP: %d %q", r.status, r.header.Get("Location"))
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// waitTLS waits until addr answers TLS with a certificate signed by caFile.
func waitTLS(t *testing.T, addr, caFile string) {
	t.Helper()
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(pem)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not come up on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pebbleRoots is the root pebble signs certificates with (made at its start).
func pebbleRoots(t *testing.T, mgmt, caFile string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	resp, err := c.Get("https://localhost:" + port(mgmt) + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	root, _ := io.ReadAll(resp.Body)
	out := x509.NewCertPool()
	if !out.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root: %q", root)
	}
	return out
}

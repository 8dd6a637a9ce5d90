package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// selfSigned writes a certificate and key for name and returns their paths
// and a pool that trusts the certificate.
func selfSigned(t *testing.T, name string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// HTTPS from certificate files: HTTP/2 to clients, and the plain listener
// redirects, keeping the method for requests with a body.
func TestTLSFromFiles(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Forwarded-Proto"))
	}))
	defer backend.Close()
	certFile, keyFile, pool := selfSigned(t, "shop.example.test")
	tc := TLS{CertFile: certFile, KeyFile: keyFile, HTTPSPort: "8443"}
	cfg, plain, err := tc.Setup()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(testOptions(backend.URL), &hits{}, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(p)
	srv.TLS = cfg
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "shop.example.test"},
		ForceAttemptHTTP2: true}}
	resp, err := c.Get(srv.URL + "/page")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || string(b) != "https" {
		t.Fatalf("%s %q", resp.Proto, b)
	}
	for _, tc := range []struct {
		method, target string
		code           int
		want           string
	}{
		{"GET", "http://shop.example.test/p?q=1", http.StatusMovedPermanently, "https://shop.example.test:8443/p?q=1"},
		{"POST", "http://shop.example.test:80/cart", http.StatusPermanentRedirect, "https://shop.example.test:8443/cart"},
	} {
		rec := httptest.NewRecorder()
		plain.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.want {
			t.Errorf("%s %s: %d %q", tc.method, tc.target, rec.Code, rec.Header().Get("Location"))
		}
	}
	if _, _, err := (TLS{CertFile: keyFile, KeyFile: certFile}).Setup(); err == nil {
		t.Error("swapped certificate and key files were accepted")
	}
}

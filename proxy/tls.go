package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLS is how the proxy serves HTTPS: certificate files, or certificates
// obtained and renewed automatically over ACME (Let's Encrypt, or any ACME
// server) for an allow-list of hosts. HTTP/2 is offered to clients either
// way; the plain-HTTP listener then only answers ACME's http-01 challenges
// and redirects everything else to HTTPS.
type TLS struct {
	CertFile, KeyFile string
	ACMEHosts         []string // the only names a certificate is ever requested for
	ACMEDirectory     string   // the ACME server's directory URL
	ACMEEmail         string
	ACMECAFile        string // extra CA to trust for the ACME server itself (a private ACME CA); empty: the system's
	ACMECacheDir      string // account key and certificates, kept across restarts
	HTTPSPort         string // where HTTPS listens, for redirects ("443" is left out of URLs)
}

// Enabled reports whether HTTPS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || len(t.ACMEHosts) > 0 }

// Setup returns the HTTPS server's TLS configuration and the handler of
// the plain-HTTP listener.
func (t TLS) Setup() (*tls.Config, http.Handler, error) {
	redirect := http.HandlerFunc(t.redirect)
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("loading proxy.tls_cert_file and proxy.tls_key_file: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
			redirect, nil
	}
	client := &acme.Client{DirectoryURL: t.ACMEDirectory}
	if t.ACMECAFile != "" {
		pem, err := os.ReadFile(t.ACMECAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("reading proxy.acme_ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("proxy.acme_ca_file %s holds no PEM certificate", t.ACMECAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(t.ACMECacheDir),
		HostPolicy: autocert.HostWhitelist(t.ACMEHosts...),
		Client:     client,
		Email:      t.ACMEEmail,
	}
	cfg := m.TLSConfig() // h2, http/1.1 and acme-tls/1 (the tls-alpn-01 challenge)
	cfg.MinVersion = tls.VersionTLS12
	return cfg, m.HTTPHandler(redirect), nil
}

// redirect sends a plain-HTTP request to the same URL over HTTPS.
func (t TLS) redirect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if t.HTTPSPort != "" && t.HTTPSPort != "443" {
		host += ":" + t.HTTPSPort
	}
	target := "https://" + host + r.URL.RequestURI()
	code := http.StatusPermanentRedirect // keeps the method and body
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	http.Redirect(w, r, target, code)
}

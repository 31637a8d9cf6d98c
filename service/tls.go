package service

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// tlsConfig loads the certificate for HTTPS, or makes one in memory for
// --tls-self-signed. TLS 1.2 is the floor: older versions have known
// weaknesses and every current client speaks 1.2 or 1.3.
func tlsConfig(cfg Config) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if cfg.TLSSelfSigned {
		cert, err = selfSignedCert(time.Now())
	} else {
		cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, configErrorf("--tls-cert/--tls-key: %v", err)
		}
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSignedCert makes an ECDSA P-256 certificate for localhost, the
// loopback addresses and this host's name, valid for a year from now. It
// lives only in memory: the deployed unit may not write files, and a
// restart simply makes a new one. Clients must skip verification (curl -k);
// that is the trade-off of having HTTPS without a domain.
func selfSignedCert(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "bucketls", Organization: []string{"bucketls self-signed"}},
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             now.Add(-time.Hour), // tolerate a client clock a little behind
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// hstsMaxAge is how long a browser that saw HTTPS with a password keeps
// to HTTPS for the host: a year, the usual value. No includeSubDomains:
// the service speaks for its own host only. Browsers ignore the header on
// a certificate they do not trust (RFC 6797 §8.1), so with
// --tls-self-signed it costs nothing and promises nothing.
const hstsMaxAge = "max-age=31536000"

// httpsOnly is what a plain-HTTP answer needs when passwords must not
// cross the network in clear (--htpasswd with --tls-addr): the HTTPS port
// to send the client to.
type httpsOnly struct {
	port string // "443" is left out of the URL
}

// requireHTTPS, with TLS and a password both on (hs not nil), sends every
// plain-HTTP request but /healthz to the same URL over HTTPS with 308 (the
// method and everything else kept), before a browser can send a password
// in clear after a 401; HTTPS answers carry Strict-Transport-Security so
// the browser goes there first next time. /healthz stays plain: load
// balancers and the boot script's health check poll it, and it carries
// nothing. Without hs the answers are as they always were.
func requireHTTPS(hs *httpsOnly, next http.Handler) http.Handler {
	if hs == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.TLS != nil:
			w.Header().Set("Strict-Transport-Security", hstsMaxAge)
		case r.URL.Path != "/healthz":
			target := "https://" + httpsHost(r.Host, hs.port) + r.URL.RequestURI()
			w.Header().Set("Location", target)
			writeJSON(w, http.StatusPermanentRedirect, errorBody{Error: "passwords go over HTTPS only: " + printable(target)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// httpsHost is host (a Host header, with or without its port) with the
// HTTPS port in place of the plain one.
func httpsHost(host, port string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if port == "443" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

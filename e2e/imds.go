package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// IMDS is an IMDSv2 double: it answers the token PUT and the metadata paths
// that the AWS CLI and the AWS SDK for Go read on an EC2 instance (instance
// profile credentials, region), and refuses metadata reads without a token,
// as an instance with http_tokens = "required" does.
type IMDS struct {
	Region   string
	RoleName string

	mu       sync.Mutex
	tokens   map[string]bool
	requests []string
}

// NewIMDS returns a double for an instance in region with the instance
// profile role roleName.
func NewIMDS(region, roleName string) *IMDS {
	return &IMDS{Region: region, RoleName: roleName, tokens: map[string]bool{}}
}

// Requests returns "METHOD path status" for each request served so far, so a
// failed rehearsal can show what the guest asked for.
func (m *IMDS) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// ServeHTTP implements http.Handler.
func (m *IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := m.serve(w, r)
	m.mu.Lock()
	m.requests = append(m.requests, r.Method+" "+r.URL.Path+" "+http.StatusText(status))
	m.mu.Unlock()
}

func (m *IMDS) serve(w http.ResponseWriter, r *http.Request) int {
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			return reply(w, http.StatusBadRequest, "text/plain", "")
		}
		token := "rehearsal-token-" + time.Now().Format("150405.000000000")
		m.mu.Lock()
		m.tokens[token] = true
		m.mu.Unlock()
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		return reply(w, http.StatusOK, "text/plain", token)
	}
	m.mu.Lock()
	ok := m.tokens[r.Header.Get("X-aws-ec2-metadata-token")]
	m.mu.Unlock()
	if !ok {
		// IMDSv2 only: the same answer a real instance gives without a token.
		return reply(w, http.StatusUnauthorized, "text/plain", "")
	}
	if r.Method != http.MethodGet {
		return reply(w, http.StatusMethodNotAllowed, "text/plain", "")
	}
	const creds = "/latest/meta-data/iam/security-credentials/"
	switch p := r.URL.Path; {
	case p == creds:
		return reply(w, http.StatusOK, "text/plain", m.RoleName)
	case p == creds+m.RoleName:
		return reply(w, http.StatusOK, "application/json", m.credentials())
	case p == "/latest/meta-data/placement/region":
		return reply(w, http.StatusOK, "text/plain", m.Region)
	case p == "/latest/meta-data/placement/availability-zone":
		return reply(w, http.StatusOK, "text/plain", m.Region+"a")
	case p == "/latest/meta-data/instance-id":
		return reply(w, http.StatusOK, "text/plain", "i-0rehearsal")
	case p == "/latest/dynamic/instance-identity/document":
		doc, _ := json.Marshal(map[string]string{
			"region": m.Region, "availabilityZone": m.Region + "a",
			"instanceId": "i-0rehearsal", "accountId": "000000000000",
		})
		return reply(w, http.StatusOK, "application/json", string(doc))
	case strings.HasPrefix(p, "/latest/"):
		return reply(w, http.StatusNotFound, "text/plain", "")
	}
	return reply(w, http.StatusNotFound, "text/plain", "")
}

// credentials are short-lived fakes: the local S3 server does not check
// signatures, and nothing real is ever handed to the guest.
func (m *IMDS) credentials() string {
	b, _ := json.Marshal(map[string]string{
		"Code":            "Success",
		"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
		"Type":            "AWS-HMAC",
		"AccessKeyId":     "ASIAREHEARSAL000000",
		"SecretAccessKey": "rehearsal-secret-not-a-credential",
		"Token":           "rehearsal-session-token",
		"Expiration":      time.Now().UTC().Add(6 * time.Hour).Format(time.RFC3339),
	})
	return string(b)
}

func reply(w http.ResponseWriter, status int, contentType, body string) int {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
	return status
}

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
)

// SSM is a Parameter Store double for the rehearsal: it answers the one
// call the boot script makes, GetParameter, in the AWS JSON 1.1 protocol
// the AWS CLI speaks, for the SecureString parameters it holds. Without
// WithDecryption it returns a stand-in ciphertext, as Parameter Store
// returns the encrypted value, so a script that forgets the flag gets no
// password file it could use.
type SSM struct {
	Region string

	mu       sync.Mutex
	params   map[string]string
	requests []string
}

// NewSSM returns a double for region holding no parameters.
func NewSSM(region string) *SSM { return &SSM{Region: region, params: map[string]string{}} }

// PutSecureString stores value under name.
func (s *SSM) PutSecureString(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[name] = value
}

// Requests returns "<target> <name> decrypt=<bool>" for each request so far.
func (s *SSM) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// ServeHTTP implements http.Handler.
func (s *SSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name           string
		WithDecryption bool
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	_ = json.Unmarshal(body, &in)
	target := r.Header.Get("X-Amz-Target")
	s.mu.Lock()
	s.requests = append(s.requests, target+" "+in.Name+" decrypt="+map[bool]string{true: "true", false: "false"}[in.WithDecryption])
	value, ok := s.params[in.Name]
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch {
	case r.Method != http.MethodPost || target != "AmazonSSM.GetParameter":
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "InvalidAction", "message": "the rehearsal's SSM answers GetParameter only"})
		return
	case !ok:
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ParameterNotFound", "message": "no parameter " + in.Name})
		return
	case !in.WithDecryption:
		value = "AQICAHg-rehearsal-ciphertext-not-a-password-file"
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
		"Name": in.Name, "Type": "SecureString", "Value": value, "Version": 1, "DataType": "text",
		"ARN": "arn:aws:ssm:" + s.Region + ":000000000000:parameter/" + trimSlash(in.Name),
	}})
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

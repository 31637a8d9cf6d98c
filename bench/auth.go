package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// authService is the service on the benchmark bucket behind --htpasswd with
// one user at bcrypt's default cost, with its base URL carrying the
// credentials (Go's client sends them from there, for checkTargets) and the
// header that sends them for wrk (which ignores credentials in a URL).
// /metrics stays public (--metrics-public) so the run's counts are read as
// for the other rows.
func (r *rig) authService() (svc *svcProc, base, header string, err error) {
	const user, password = "bench", "bench-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, "", "", err
	}
	file := filepath.Join(r.tmp, "htpasswd")
	if err := os.WriteFile(file, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		return nil, "", "", err
	}
	svc, err = r.service("BUCKETLS_HTPASSWD="+file, "BUCKETLS_METRICS_PUBLIC=true")
	if err != nil {
		return nil, "", "", err
	}
	header = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	return svc, strings.Replace(svc.base, "http://", "http://"+user+":"+password+"@", 1), header, nil
}

package main

import (
	"strings"
	"testing"
)

// TestBadSettingsExit2: settings the stack cannot use stop it before any
// synthesis with exit status 2 and the setting named, as a bad flag stops
// the service; without them nothing of jsii starts, so this runs in
// milliseconds.
func TestBadSettingsExit2(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		env        map[string]string
		want       []string
	}{
		{"bad duration from the environment", "cdktf.json", map[string]string{"BUCKETLS_CACHE_TTL": "-1s"}, []string{"cacheTtl"}},
		{"two bad settings, each named", "cdktf.json", map[string]string{"BUCKETLS_CACHE_TTL": "soon", "BUCKETLS_ROOT_PREFIX": "/x/"}, []string{"cacheTtl", "rootPrefix"}},
		{"no cdktf.json", "no-such-cdktf.json", nil, []string{"no-such-cdktf.json"}},
	} {
		var stderr strings.Builder
		code := run(tt.file, func(k string) string { return tt.env[k] }, &stderr)
		if code != 2 || !strings.HasPrefix(stderr.String(), "bucketls stack: ") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and the problem", tt.name, code, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr %q does not name %s", tt.name, stderr.String(), w)
			}
		}
	}
}

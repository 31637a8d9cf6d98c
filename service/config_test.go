package service

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/internal/corsorigin/corsorigintest"
)

func envFunc(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestParseConfig covers flags, environment fallbacks, precedence and the
// defaults.
func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   []string
		check func(Config) bool
	}{
		{"defaults", []string{"--bucket", "b-1"}, nil, func(c Config) bool {
			return c.Bucket == "b-1" && c.Addr == ":8080" && c.CacheTTL == 0 && c.S3Endpoint == "" &&
				c.TLSAddr == "" && !c.TLSSelfSigned && !c.Demo && c.RequestTimeout == 0 && c.StallTimeout == 30*time.Second && c.ShutdownTimeout == 10*time.Second
		}},
		{"single dash works too", []string{"-bucket", "b-1", "-addr", ":9"}, nil, func(c Config) bool { return c.Addr == ":9" }},
		{"everything from env", nil, []string{
			"BUCKETLS_BUCKET", "env-bucket", "BUCKETLS_ADDR", ":80", "BUCKETLS_S3_ENDPOINT", "http://127.0.0.1:9000",
			"BUCKETLS_CACHE_TTL", "1s", "BUCKETLS_TLS_ADDR", ":443", "BUCKETLS_TLS_SELF_SIGNED", "true",
		}, func(c Config) bool {
			return c.Bucket == "env-bucket" && c.Addr == ":80" && c.S3Endpoint == "http://127.0.0.1:9000" &&
				c.CacheTTL == time.Second && c.TLSAddr == ":443" && c.TLSSelfSigned
		}},
		{"flags win over env", []string{"--bucket", "flag-bucket", "--cache-ttl", "2s", "--demo=false"},
			[]string{"BUCKETLS_BUCKET", "env-bucket", "BUCKETLS_CACHE_TTL", "garbage", "BUCKETLS_DEMO", "maybe"},
			func(c Config) bool { return c.Bucket == "flag-bucket" && c.CacheTTL == 2*time.Second && !c.Demo }},
		{"demo needs no bucket", []string{"--demo"}, nil, func(c Config) bool { return c.Demo && c.Bucket == "" }},
		{"demo from env", nil, []string{"BUCKETLS_DEMO", "1"}, func(c Config) bool { return c.Demo }},
		{"tls files", []string{"--bucket", "bkt", "--tls-addr", ":8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil,
			func(c Config) bool { return c.TLSCert == "c.pem" && c.TLSKey == "k.pem" }},
		{"legacy bucket name", []string{"--bucket", "My_Old.Bucket"}, nil, func(c Config) bool { return c.Bucket == "My_Old.Bucket" }},
		{"port zero", []string{"--bucket", "bkt", "--addr", "127.0.0.1:0"}, nil, func(c Config) bool { return c.Addr == "127.0.0.1:0" }},
		{"cors origins", []string{"--bucket", "bkt", "--cors-origins", "https://App.example/, http://localhost:3000"}, nil, func(c Config) bool {
			return strings.Join(c.CORSOrigins, " ") == "https://app.example http://localhost:3000"
		}},
		{"cors from env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_CORS_ORIGINS", "*"}, func(c Config) bool { return strings.Join(c.CORSOrigins, " ") == "*" }},
		{"cors wildcard label", []string{"--bucket", "bkt", "--cors-origins", "https://*.Example.com, http://*.dev.example.com:3000"}, nil, func(c Config) bool {
			return strings.Join(c.CORSOrigins, " ") == "https://*.example.com http://*.dev.example.com:3000"
		}},
		{"memory target default", []string{"--bucket", "bkt"}, nil, func(c Config) bool { return c.MemoryTarget == 24<<20 }},
		{"memory target flag", []string{"--bucket", "bkt", "--memory-target", "64MiB"}, []string{"BUCKETLS_MEMORY_TARGET", "junk"}, func(c Config) bool { return c.MemoryTarget == 64<<20 }},
		{"memory target env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_MEMORY_TARGET", "512KiB"}, func(c Config) bool { return c.MemoryTarget == 512<<10 }},
		{"memory target bytes", []string{"--bucket", "bkt", "--memory-target", "33554432"}, nil, func(c Config) bool { return c.MemoryTarget == 32<<20 }},
		{"memory target in GiB", []string{"--bucket", "bkt", "--memory-target", "1GiB"}, nil, func(c Config) bool { return c.MemoryTarget == 1<<30 }},
		{"memory target off", []string{"--bucket", "bkt", "--memory-target", "0"}, nil, func(c Config) bool { return c.MemoryTarget == 0 }},
		{"pprof off by default", []string{"--bucket", "bkt"}, nil, func(c Config) bool { return c.PprofAddr == "" }},
		{"pprof from env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_PPROF_ADDR", "127.0.0.1:6060"}, func(c Config) bool { return c.PprofAddr == "127.0.0.1:6060" }},
		{"pprof on localhost", []string{"--bucket", "bkt", "--pprof-addr", "localhost:6060"}, nil, func(c Config) bool { return c.PprofAddr == "localhost:6060" }},
		{"pprof on IPv6 loopback", []string{"--bucket", "bkt", "--pprof-addr", "[::1]:6060"}, nil, func(c Config) bool { return c.PprofAddr == "[::1]:6060" }},
		{"pprof on every interface, said so", []string{"--bucket", "bkt", "--pprof-addr", ":6061", "--pprof-public"}, nil, func(c Config) bool { return c.PprofAddr == ":6061" && c.PprofPublic }},
		{"pprof public from env", []string{"--bucket", "bkt", "--pprof-addr", "10.0.0.5:6061"}, []string{"BUCKETLS_PPROF_PUBLIC", "true"}, func(c Config) bool { return c.PprofPublic }},
		{"max-age follows the ttl, the stale window stays off", []string{"--bucket", "bkt", "--cache-ttl", "2500ms"}, nil, func(c Config) bool {
			return c.CacheTTL == 2500*time.Millisecond && c.CacheMaxAge == 2*time.Second && c.CacheStale == 0
		}},
		{"cache settings off by default", []string{"--bucket", "bkt"}, nil, func(c Config) bool {
			return c.CacheMaxAge == 0 && c.CacheStale == 0
		}},
		{"cache settings of their own", []string{"--bucket", "bkt", "--cache-ttl", "2s", "--cache-max-age", "1m", "--cache-stale", "0"}, nil, func(c Config) bool {
			return c.CacheMaxAge == time.Minute && c.CacheStale == 0
		}},
		{"cache settings from env", []string{"--bucket", "bkt", "--cache-ttl", "2s"}, []string{"BUCKETLS_CACHE_MAX_AGE", "0s", "BUCKETLS_CACHE_STALE", "10s"}, func(c Config) bool {
			return c.CacheMaxAge == 0 && c.CacheStale == 10*time.Second
		}},
		{"cache max-age without the in-process cache", []string{"--bucket", "bkt", "--cache-max-age", "30s"}, nil, func(c Config) bool {
			return c.CacheTTL == 0 && c.CacheMaxAge == 30*time.Second && c.CacheStale == 0
		}},
		{"view cap default", []string{"--bucket", "bkt"}, nil, func(c Config) bool { return c.ViewCap == 10_000 && c.Hide == nil }},
		{"view cap flag", []string{"--bucket", "bkt", "--view-cap", "500"}, []string{"BUCKETLS_VIEW_CAP", "x"}, func(c Config) bool { return c.ViewCap == 500 }},
		{"view cap env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_VIEW_CAP", "1000000"}, func(c Config) bool { return c.ViewCap == 1_000_000 }},
		{"hide from env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_HIDE", ".*, *.bak ,,private/*"}, func(c Config) bool {
			return strings.Join(c.Hide, " ") == ".* *.bak private/*"
		}},
		{"hide flags repeat and replace env", []string{"--bucket", "bkt", "--hide", ".*,x", "--hide", "y/[a-z]*"}, []string{"BUCKETLS_HIDE", "z"}, func(c Config) bool {
			return strings.Join(c.Hide, " ") == ".* x y/[a-z]*"
		}},
		{"objects off by default", []string{"--bucket", "bkt"}, nil, func(c Config) bool { return !c.ServeObjects }},
		{"objects flag", []string{"--bucket", "bkt", "--serve-objects"}, nil, func(c Config) bool { return c.ServeObjects }},
		{"objects env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_SERVE_OBJECTS", "true"}, func(c Config) bool { return c.ServeObjects }},
		{"objects on with demo", []string{"--demo"}, nil, func(c Config) bool { return c.ServeObjects }},
		{"demo, objects off by flag", []string{"--demo", "--serve-objects=false"}, nil, func(c Config) bool { return c.Demo && !c.ServeObjects }},
		{"demo, objects off by env", []string{"--demo"}, []string{"BUCKETLS_SERVE_OBJECTS", "false"}, func(c Config) bool { return c.Demo && !c.ServeObjects }},
		{"timeouts", []string{"--bucket", "bkt", "--request-timeout", "5m"}, []string{"BUCKETLS_STALL_TIMEOUT", "5s"}, func(c Config) bool {
			return c.RequestTimeout == 5*time.Minute && c.StallTimeout == 5*time.Second
		}},
	}
	for _, tt := range tests {
		cfg, err := parseConfig(tt.args, envFunc(tt.env...))
		if err != nil {
			t.Errorf("%s: parseConfig(%q) error %v", tt.name, tt.args, err)
			continue
		}
		if !tt.check(cfg) {
			t.Errorf("%s: parseConfig(%q) = %+v", tt.name, tt.args, cfg)
		}
	}
}

// TestParseConfigErrors checks every bad configuration gives one clear
// line that names the problem, and exit status 2.
func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
		want string // substring of the message
	}{
		{"no bucket", nil, nil, "BUCKETLS_BUCKET"},
		{"bad bucket", []string{"--bucket", "a/b"}, nil, `--bucket "a/b"`},
		{"short bucket", []string{"--bucket", "ab"}, nil, "--bucket"},
		{"unknown flag", []string{"--bucket", "bkt", "--nope"}, nil, "-nope"},
		{"positional argument", []string{"--bucket", "bkt", "extra"}, nil, `"extra"`},
		{"bad duration flag", []string{"--bucket", "bkt", "--cache-ttl", "soon"}, nil, "cache-ttl"},
		{"bad duration env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_CACHE_TTL", "soon"}, "BUCKETLS_CACHE_TTL"},
		{"negative ttl", []string{"--bucket", "bkt", "--cache-ttl", "-1s"}, nil, "negative"},
		{"max-age in part seconds", []string{"--bucket", "bkt", "--cache-max-age", "1500ms"}, nil, "--cache-max-age 1.5s is not a whole number of seconds"},
		{"negative max-age", []string{"--bucket", "bkt", "--cache-max-age", "-1s"}, nil, "--cache-max-age"},
		{"bad max-age env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_CACHE_MAX_AGE", "a day"}, "BUCKETLS_CACHE_MAX_AGE"},
		{"negative stale window", []string{"--bucket", "bkt", "--cache-stale", "-1s"}, nil, "--cache-stale -1s is negative"},
		{"bad stale env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_CACHE_STALE", "a bit"}, "BUCKETLS_CACHE_STALE"},
		{"bad bool env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_TLS_SELF_SIGNED", "yes please"}, "BUCKETLS_TLS_SELF_SIGNED"},
		{"bad demo env", nil, []string{"BUCKETLS_DEMO", "sure"}, "BUCKETLS_DEMO"},
		{"bad objects env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_SERVE_OBJECTS", "sure"}, `BUCKETLS_SERVE_OBJECTS="sure" is not a boolean`},
		{"bad addr", []string{"--bucket", "bkt", "--addr", "8080"}, nil, "--addr"},
		{"port out of range", []string{"--bucket", "bkt", "--addr", ":70000"}, nil, "--addr"},
		{"bad endpoint", []string{"--bucket", "bkt", "--s3-endpoint", "localhost:9000"}, nil, "--s3-endpoint"},
		{"ftp endpoint", []string{"--bucket", "bkt", "--s3-endpoint", "ftp://x"}, nil, "--s3-endpoint"},
		{"demo with endpoint", []string{"--demo", "--s3-endpoint", "http://127.0.0.1:1"}, nil, "--demo"},
		{"cert without tls addr", []string{"--bucket", "bkt", "--tls-cert", "c"}, nil, "--tls-addr"},
		{"self-signed without tls addr", []string{"--bucket", "bkt", "--tls-self-signed"}, nil, "--tls-addr"},
		{"tls addr alone", []string{"--bucket", "bkt", "--tls-addr", ":8443"}, nil, "--tls-self-signed"},
		{"cert without key", []string{"--bucket", "bkt", "--tls-addr", ":8443", "--tls-cert", "c"}, nil, "set both"},
		{"both tls kinds", []string{"--bucket", "bkt", "--tls-addr", ":8443", "--tls-cert", "c", "--tls-key", "k", "--tls-self-signed"}, nil, "not both"},
		{"bad tls addr", []string{"--bucket", "bkt", "--tls-addr", "x", "--tls-self-signed"}, nil, "--tls-addr"},
		{"cors origin with a path", []string{"--bucket", "bkt", "--cors-origins", "https://a.example/app"}, nil, `--cors-origins: "https://a.example/app" has a path`},
		{"cors origin without scheme", []string{"--bucket", "bkt", "--cors-origins", "a.example"}, nil, "--cors-origins"},
		{"cors origin with a port out of range", []string{"--bucket", "bkt", "--cors-origins", "https://a.example:99999"}, nil, `--cors-origins: "https://a.example:99999" has port 99999, outside 1 to 65535`},
		{"cors star with others", []string{"--bucket", "bkt", "--cors-origins", "*,https://a.example"}, nil, "give it alone"},
		{"cors wildcard inside a label", []string{"--bucket", "bkt", "--cors-origins", "https://app-*.example.com"}, nil, `--cors-origins: "https://app-*.example.com" has a * that is not the whole first label`},
		{"cors wildcard in the middle", []string{"--bucket", "bkt", "--cors-origins", "https://a.*.example.com"}, nil, "whole first label"},
		{"cors wildcard over a top-level domain", []string{"--bucket", "bkt", "--cors-origins", "https://*.com"}, nil, "fewer than two labels after it"},
		{"cors wildcard twice", []string{"--bucket", "bkt", "--cors-origins", "https://*.*.example.com"}, nil, "whole first label"},
		{"cors wildcard scheme", []string{"--bucket", "bkt", "--cors-origins", "*://app.example.com"}, nil, "whole first label"},
		{"cors wildcard port", []string{"--bucket", "bkt", "--cors-origins", "https://app.example.com:*"}, nil, "whole first label"},
		{"cors wildcard with a path", []string{"--bucket", "bkt"}, []string{"BUCKETLS_CORS_ORIGINS", "https://*.example.com/app"}, `--cors-origins: "https://*.example.com/app" has a path`},
		{"negative request timeout", []string{"--bucket", "bkt", "--request-timeout", "-1s"}, nil, "--request-timeout"},
		{"zero stall timeout", []string{"--bucket", "bkt", "--stall-timeout", "0"}, nil, "--stall-timeout"},
		{"bad stall env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_STALL_TIMEOUT", "long"}, "BUCKETLS_STALL_TIMEOUT"},
		{"same port twice", []string{"--bucket", "bkt", "--tls-addr", ":8080", "--tls-self-signed"}, nil, "own port"},
		{"memory target without unit letters", []string{"--bucket", "bkt", "--memory-target", "24M"}, nil, "-memory-target"},
		{"memory target negative", []string{"--bucket", "bkt", "--memory-target", "-1MiB"}, nil, "is not a size"},
		{"memory target too large", []string{"--bucket", "bkt", "--memory-target", "2000GiB"}, nil, "at most 1TiB"},
		{"memory target env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_MEMORY_TARGET", "lots"}, `BUCKETLS_MEMORY_TARGET="lots"`},
		{"bad pprof addr", []string{"--bucket", "bkt", "--pprof-addr", "6060"}, nil, "--pprof-addr"},
		{"pprof on the listing port", []string{"--bucket", "bkt", "--addr", ":9000"}, []string{"BUCKETLS_PPROF_ADDR", ":9000"}, "own port"},
		{"pprof on every interface", []string{"--bucket", "bkt", "--pprof-addr", ":6061"}, nil, `--pprof-addr ":6061" listens beyond this host, and the profiles (goroutine dumps, CPU profiles) have no password: use 127.0.0.1:6061, or add --pprof-public`},
		{"pprof on 0.0.0.0", []string{"--bucket", "bkt", "--pprof-addr", "0.0.0.0:6061"}, nil, "--pprof-public"},
		{"pprof on ::", []string{"--bucket", "bkt", "--pprof-addr", "[::]:6061"}, nil, "--pprof-public"},
		{"pprof on a private address", []string{"--bucket", "bkt"}, []string{"BUCKETLS_PPROF_ADDR", "10.0.0.5:6061"}, "--pprof-public"},
		{"pprof on a host name", []string{"--bucket", "bkt", "--pprof-addr", "box.internal:6061"}, nil, "--pprof-public"},
		{"pprof public without pprof", []string{"--bucket", "bkt", "--pprof-public"}, nil, "--pprof-public needs --pprof-addr"},
		{"view cap zero", []string{"--bucket", "bkt", "--view-cap", "0"}, nil, "--view-cap 0: use a whole number from 1 to 1000000"},
		{"view cap too large", []string{"--bucket", "bkt", "--view-cap", "1000001"}, nil, "--view-cap"},
		{"view cap not a number", []string{"--bucket", "bkt", "--view-cap", "lots"}, nil, "-view-cap"},
		{"view cap env", []string{"--bucket", "bkt"}, []string{"BUCKETLS_VIEW_CAP", "10k"}, `BUCKETLS_VIEW_CAP="10k" is not a whole number`},
		{"hide bad glob", []string{"--bucket", "bkt", "--hide", "[a-"}, nil, `--hide (BUCKETLS_HIDE): pattern "[a-" is not a glob pattern`},
		{"hide absolute", []string{"--bucket", "bkt"}, []string{"BUCKETLS_HIDE", "/etc"}, `pattern "/etc" has a slash at an end`},
		{"hide dot-dot", []string{"--bucket", "bkt", "--hide", "a/../b"}, nil, ". or .."},
		{"bad pprof public env", []string{"--bucket", "bkt", "--pprof-addr", "127.0.0.1:6061"}, []string{"BUCKETLS_PPROF_PUBLIC", "maybe"}, "BUCKETLS_PPROF_PUBLIC"},
	}
	for _, tt := range tests {
		_, err := parseConfig(tt.args, envFunc(tt.env...))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: parseConfig(%q) = %v, want *ConfigError", tt.name, tt.args, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: message %q, want one line containing %q", tt.name, msg, tt.want)
		}
		if ExitCode(err) != 2 {
			t.Errorf("%s: ExitCode = %d, want 2", tt.name, ExitCode(err))
		}
	}
}

// TestCORSOriginsRule: --cors-origins takes the lists the stack's
// corsOrigins takes (corsorigintest's examples, which the stack's tests
// run too), written the same way, and refuses the rest with exit status 2
// and a message naming the entry.
func TestCORSOriginsRule(t *testing.T) {
	t.Parallel()
	for _, ex := range corsorigintest.Examples() {
		args := []string{"--bucket", "bkt", "--cors-origins", strings.Join(ex.Origins, ",")}
		cfg, err := parseConfig(args, envFunc())
		if ex.Want != nil {
			if err != nil || !slices.Equal(cfg.CORSOrigins, ex.Want) {
				t.Errorf("%q: CORSOrigins %q, %v; want %q", args, cfg.CORSOrigins, err, ex.Want)
			}
			continue
		}
		var ce *ConfigError
		if want := fmt.Sprintf("--cors-origins: %q ", ex.Bad); !errors.As(err, &ce) || ExitCode(err) != 2 || !strings.HasPrefix(ce.Msg, want) || !strings.Contains(ce.Msg, ex.Problem) {
			t.Errorf("%q: %v; want exit status 2 and a message starting %s and saying %q", args, err, want, ex.Problem)
		}
	}
}

func TestHelpAndExitCode(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help"} {
		if _, err := parseConfig([]string{arg}, envFunc()); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseConfig(%s) = %v, want flag.ErrHelp", arg, err)
		}
	}
	if ExitCode(nil) != 0 || ExitCode(errors.New("x")) != 1 || ExitCode(&ConfigError{Msg: "x"}) != 2 {
		t.Errorf("ExitCode: nil %d, other %d, config %d; want 0, 1, 2", ExitCode(nil), ExitCode(errors.New("x")), ExitCode(&ConfigError{}))
	}
	var b strings.Builder
	usage(&b)
	for _, flagName := range []string{"--bucket", "--addr", "--s3-endpoint", "--cache-ttl", "--tls-addr", "--tls-cert", "--tls-key", "--tls-self-signed", "--demo",
		"BUCKETLS_BUCKET", "BUCKETLS_ADDR", "BUCKETLS_S3_ENDPOINT", "BUCKETLS_CACHE_TTL", "BUCKETLS_TLS_ADDR", "BUCKETLS_TLS_CERT", "BUCKETLS_TLS_KEY", "BUCKETLS_TLS_SELF_SIGNED", "BUCKETLS_DEMO", `":8080"`} {
		if !strings.Contains(b.String(), flagName) {
			t.Errorf("usage lacks %s:\n%s", flagName, b.String())
		}
	}
}

// TestDocumentedFlags keeps the flag table of docs/configuration.md
// complete: every flag bucketls has is a row of it, with its environment
// variable, or "none" for --version, the one flag without one.
func TestDocumentedFlags(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for line := range strings.SplitSeq(string(readme), "\n") {
		if strings.HasPrefix(line, "| `--") {
			rows = append(rows, line)
		}
	}
	fs := newFlagSet(&Config{}, envFunc(), map[string]error{})
	fs.VisitAll(func(f *flag.Flag) {
		env := "| none |"
		if i := strings.LastIndex(f.Usage, "(env "); i >= 0 {
			env = "`" + f.Usage[i+len("(env "):len(f.Usage)-1] + "`"
		}
		for _, row := range rows {
			if strings.Contains(row, "`--"+f.Name+"`") && strings.Contains(row, env) {
				return
			}
		}
		t.Errorf("docs/configuration.md's flag table has no row for --%s (%s)", f.Name, env)
	})
}

package service

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bucketls/bucketls/internal/corsorigin"
	"github.com/bucketls/bucketls/internal/hidden"
	"github.com/bucketls/bucketls/internal/s3name"
	"github.com/bucketls/bucketls/internal/viewcap"
	"github.com/bucketls/bucketls/service/internal/htpasswd"
)

// Config is everything bucketls can be told. parseConfig fills it from
// flags, each falling back to a BUCKETLS_* environment variable, then to the
// default written on the field.
type Config struct {
	// Bucket is the S3 bucket to list (--bucket, BUCKETLS_BUCKET). Required
	// unless Demo; with Demo it names the in-memory bucket. Default: none.
	Bucket string
	// RootPrefix serves one subtree of the bucket: the listing root is the
	// key prefix RootPrefix+"/" and nothing outside it is ever listed
	// (--root-prefix, BUCKETLS_ROOT_PREFIX). Default: "" (the whole bucket).
	RootPrefix string
	// Htpasswd is an Apache htpasswd file of bcrypt entries (--htpasswd,
	// BUCKETLS_HTPASSWD): when set, the listing routes, and /metrics unless
	// MetricsPublic, need the HTTP Basic credentials of a user in it. The
	// deployed unit points it at its systemd credentials directory.
	// Default: "" (no authentication).
	Htpasswd string
	// MetricsPublic serves /metrics without credentials even with Htpasswd,
	// for a scraper that cannot send them (--metrics-public,
	// BUCKETLS_METRICS_PUBLIC). Default: false.
	MetricsPublic bool
	// Addr is the HTTP listen address (--addr, BUCKETLS_ADDR). Default: ":8080".
	Addr string
	// S3Endpoint is an S3-compatible endpoint URL, addressed path-style
	// (--s3-endpoint, BUCKETLS_S3_ENDPOINT). Default: "" (AWS S3, or the
	// SDK's own AWS_ENDPOINT_URL_S3).
	S3Endpoint string
	// CacheTTL keeps S3 pages this long (--cache-ttl, BUCKETLS_CACHE_TTL).
	// Default: 0 (off; identical concurrent calls are coalesced anyway).
	CacheTTL time.Duration
	// CacheMaxAge is how long clients and shared caches (a CDN) may reuse
	// a listing answer without asking again: the Cache-Control max-age of
	// answers without Htpasswd, in whole seconds (--cache-max-age,
	// BUCKETLS_CACHE_MAX_AGE). 0 has them revalidate every time (no-cache),
	// as every listing said before this setting existed. Default: CacheTTL,
	// rounded down to whole seconds (parseConfig fills it in).
	CacheMaxAge time.Duration
	// CacheStale is how long past its freshness a listing may still be
	// answered: by this process from its cache (past CacheTTL) while one
	// S3 call refreshes it or while refreshes fail, and by clients and
	// CDNs (past CacheMaxAge) as Cache-Control's stale-while-revalidate
	// and stale-if-error (--cache-stale, BUCKETLS_CACHE_STALE). A listing
	// is then at most CacheTTL + CacheStale old when it leaves the process.
	// 0 turns it off. Default: 0 (opt-in: it lets an answer be older than
	// CacheTTL).
	CacheStale time.Duration
	// TLSAddr is the HTTPS listen address, served beside HTTP (--tls-addr,
	// BUCKETLS_TLS_ADDR). Default: "" (no HTTPS).
	TLSAddr string
	// TLSCert and TLSKey are PEM files for HTTPS (--tls-cert/BUCKETLS_TLS_CERT,
	// --tls-key/BUCKETLS_TLS_KEY). Default: "".
	TLSCert, TLSKey string
	// TLSSelfSigned makes HTTPS use a certificate generated in memory at
	// start (--tls-self-signed, BUCKETLS_TLS_SELF_SIGNED): nothing is
	// written to disk, which a ProtectSystem=strict unit forbids anyway.
	// Default: false.
	TLSSelfSigned bool
	// CORSOrigins are the origins whose web pages may call the listing
	// routes, or just "*" for any (--cors-origins, BUCKETLS_CORS_ORIGINS,
	// comma-separated). An origin's host may start with "*." for any one
	// label there (https://*.example.com). parseConfig writes them as
	// browsers send them (package corsorigin states the rule the stack's
	// corsOrigins shares). Default: none (no CORS headers at all).
	CORSOrigins []string
	// Demo serves an in-process gofakes3 bucket seeded with the reference
	// tree instead of S3 (--demo, BUCKETLS_DEMO). It turns ServeObjects on
	// unless that is set explicitly. Default: false.
	Demo bool
	// ServeObjects serves objects' bytes at GET /files/<key> and links the
	// index's files there (--serve-objects, BUCKETLS_SERVE_OBJECTS). It
	// needs s3:GetObject on the served keys. Default: false (the route
	// does not exist, and listings stay as they were).
	ServeObjects bool
	// RequestTimeout bounds a listing request as a whole, from the first
	// S3 call to the last byte (--request-timeout, BUCKETLS_REQUEST_TIMEOUT).
	// Default: 0 (none): each S3 call has its own deadline and each write
	// to the client StallTimeout, so a listing of any size completes for a
	// client that keeps reading, and every wait is bounded without it.
	RequestTimeout time.Duration
	// StallTimeout is how long one write of a listing may wait for the
	// client to take it (--stall-timeout, BUCKETLS_STALL_TIMEOUT). It is
	// renewed as the client makes progress; a client that stops reading is
	// cut off and logged as stalled. Default: 30s.
	StallTimeout time.Duration
	// MemoryTarget is how much memory the Go runtime may manage before
	// the garbage collector runs (--memory-target, BUCKETLS_MEMORY_TARGET,
	// in bytes with an optional KiB, MiB or GiB suffix). Live data beyond
	// half of it raises it to what Go's default pacing (GOGC=100) allows,
	// so the collector never works harder than by default; below it,
	// collections are fewer and cost less CPU per request. It is off when
	// the process has GOGC or GOMEMLIMIT in its environment, which then
	// rule as in any Go program. Default: 24 MiB (with the binary's own
	// pages, a peak RSS of about 40 MiB under 64 connections).
	MemoryTarget int64
	// PprofAddr serves Go's runtime profiles (net/http/pprof) on a listener
	// of its own, for profiling a running process (--pprof-addr,
	// BUCKETLS_PPROF_ADDR). Profiles show paths and timings, goroutine
	// dumps and CPU time to anyone who asks, with no password (not even
	// with Htpasswd), so a host that is not loopback is refused unless
	// PprofPublic. Default: "" (off).
	PprofAddr string
	// PprofPublic lets PprofAddr listen beyond this host, say for a
	// profiler on another machine of a private network (--pprof-public,
	// BUCKETLS_PPROF_PUBLIC). Default: false.
	PprofPublic bool
	// Hide are glob patterns of names and paths the listings leave out
	// (--hide, BUCKETLS_HIDE, comma-separated; the flag may be repeated):
	// a pattern without a slash matches a name at any depth (".*"), one
	// with slashes the path from the root ("private/*"), and what is below
	// a hidden directory is hidden too (see package hidden). A hidden path
	// answers 404. It is presentation, not access control: --root-prefix
	// and IAM keep keys from the service. Default: none (nothing hidden).
	Hide []string
	// ViewCap is the most entries a sorted or filtered listing (sort=,
	// match=) reads from one directory (--view-cap, BUCKETLS_VIEW_CAP).
	// S3 lists in key order only, so such a view reads the directory whole
	// and holds it while it sorts; a directory with more entries is listed
	// in key order, unsorted and unfiltered, and the answer says so
	// (overCap). Default: 10,000 (about 1.5 MiB held per view being built).
	ViewCap int
	// ShutdownTimeout is how long in-flight requests may run after SIGTERM.
	// It has no flag. Default: 10s.
	ShutdownTimeout time.Duration
}

// Defaults for the fields without a flag, and for Addr.
const (
	defaultAddr            = ":8080"
	defaultStallTimeout    = 30 * time.Second
	defaultShutdownTimeout = 10 * time.Second
	defaultMemoryTarget    = 24 << 20
)

// ConfigError is a configuration mistake: the process exits with status 2
// and prints the message, one line, to stderr.
type ConfigError struct {
	// Msg names the flag or variable, the bad value and the fix.
	Msg string
}

// Error implements error.
func (e *ConfigError) Error() string { return "invalid configuration: " + e.Msg }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// ExitCode is the process exit status for an error returned by Run: 0 for
// nil, 2 for a *ConfigError, 1 for anything else.
func ExitCode(err error) int {
	var ce *ConfigError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		return 2
	default:
		return 1
	}
}

// env names, one per flag; the flag wins when both are set.
const (
	envBucket        = "BUCKETLS_BUCKET"
	envRootPrefix    = "BUCKETLS_ROOT_PREFIX"
	envHtpasswd      = "BUCKETLS_HTPASSWD"
	envMetricsPublic = "BUCKETLS_METRICS_PUBLIC"
	envAddr          = "BUCKETLS_ADDR"
	envS3Endpoint    = "BUCKETLS_S3_ENDPOINT"
	envCacheTTL      = "BUCKETLS_CACHE_TTL"
	envCacheMaxAge   = "BUCKETLS_CACHE_MAX_AGE"
	envCacheStale    = "BUCKETLS_CACHE_STALE"
	envTLSAddr       = "BUCKETLS_TLS_ADDR"
	envTLSCert       = "BUCKETLS_TLS_CERT"
	envTLSKey        = "BUCKETLS_TLS_KEY"
	envTLSSelfSigned = "BUCKETLS_TLS_SELF_SIGNED"
	envDemo          = "BUCKETLS_DEMO"
	envServeObjects  = "BUCKETLS_SERVE_OBJECTS"
	envRequestTO     = "BUCKETLS_REQUEST_TIMEOUT"
	envCORSOrigins   = "BUCKETLS_CORS_ORIGINS"
	envStallTO       = "BUCKETLS_STALL_TIMEOUT"
	envPprofAddr     = "BUCKETLS_PPROF_ADDR"
	envMemoryTarget  = "BUCKETLS_MEMORY_TARGET"
	envPprofPublic   = "BUCKETLS_PPROF_PUBLIC"
	envViewCap       = "BUCKETLS_VIEW_CAP"
	envHide          = "BUCKETLS_HIDE"
)

// newFlagSet declares every flag. Each default is the environment variable
// when set, else the built-in default, so "flag, then env, then default"
// falls out of the flag package. Values from the environment that do not
// parse are collected in envErrs and reported only if the flag did not
// override them.
func newFlagSet(cfg *Config, getenv func(string) string, envErrs map[string]error) *flag.FlagSet {
	d := flagDecls{fs: flag.NewFlagSet("bucketls", flag.ContinueOnError), getenv: getenv, envErrs: envErrs}
	d.fs.SetOutput(io.Discard) // errors become one line; --help prints usage itself

	d.str(&cfg.Bucket, "bucket", envBucket, "", "S3 bucket to list; required unless --demo")
	d.str(&cfg.RootPrefix, "root-prefix", envRootPrefix, "", "serve only the keys under this prefix and a slash, e.g. reports/2024; paths are relative to it")
	d.str(&cfg.Htpasswd, "htpasswd", envHtpasswd, "", "require HTTP Basic auth on the listing routes and /metrics, against this Apache htpasswd file of bcrypt entries (htpasswd -B)")
	d.boolean(&cfg.MetricsPublic, "metrics-public", envMetricsPublic, "serve /metrics without credentials even with --htpasswd")
	d.str(&cfg.Addr, "addr", envAddr, defaultAddr, "HTTP listen address")
	d.str(&cfg.S3Endpoint, "s3-endpoint", envS3Endpoint, "", "S3-compatible endpoint URL, path-style addressing (AWS_ENDPOINT_URL_S3 works too)")
	d.duration(&cfg.CacheTTL, "cache-ttl", envCacheTTL, 0, "keep S3 listing pages this long, e.g. 1s; 0 turns the cache off")
	d.duration(&cfg.CacheMaxAge, "cache-max-age", envCacheMaxAge, 0, "let clients and CDNs reuse a listing this long (Cache-Control max-age, whole seconds), e.g. 60s; 0 makes them revalidate every time; default: the --cache-ttl value")
	d.duration(&cfg.CacheStale, "cache-stale", envCacheStale, 0, "answer a listing up to this long past its --cache-ttl (and let clients past --cache-max-age) while one refresh runs or while refreshes fail; 0 turns it off; try the --cache-ttl value")
	d.duration(&cfg.RequestTimeout, "request-timeout", envRequestTO, 0, "end a listing request that takes longer than this in all; 0 means no such bound")
	d.duration(&cfg.StallTimeout, "stall-timeout", envStallTO, defaultStallTimeout, "cut off a client that takes no listing bytes for this long")
	d.list(&cfg.CORSOrigins, "cors-origins", envCORSOrigins, splitOrigins, false, "origins whose pages may call the listing routes, comma-separated (https://a.example,http://localhost:3000,https://*.example.com), or * for any")
	d.str(&cfg.TLSAddr, "tls-addr", envTLSAddr, "", "HTTPS listen address, served beside HTTP; needs --tls-cert and --tls-key, or --tls-self-signed")
	d.str(&cfg.TLSCert, "tls-cert", envTLSCert, "", "PEM certificate file for HTTPS")
	d.str(&cfg.TLSKey, "tls-key", envTLSKey, "", "PEM private key file for HTTPS")
	d.boolean(&cfg.TLSSelfSigned, "tls-self-signed", envTLSSelfSigned, "serve HTTPS with a certificate generated in memory at start")
	d.size(&cfg.MemoryTarget, "memory-target", envMemoryTarget, defaultMemoryTarget, "memory the Go runtime may use before the garbage collector runs, e.g. 24MiB; more when live data needs it; 0 leaves Go's defaults")
	d.list(&cfg.Hide, "hide", envHide, splitList, true, "leave out of listings the names matching this glob pattern (.*, *.bak) or paths from the root (private/*); comma-separated or repeated; presentation, not access control")
	d.integer(&cfg.ViewCap, "view-cap", envViewCap, viewcap.Default, "most entries sort= and match= read from one directory; a larger one is listed in key order, unsorted and unfiltered, marked overCap")
	d.str(&cfg.PprofAddr, "pprof-addr", envPprofAddr, "", "serve Go's runtime profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; off when empty")
	d.boolean(&cfg.PprofPublic, "pprof-public", envPprofPublic, "let --pprof-addr listen beyond this host (the profiles have no password)")
	d.boolean(&cfg.ServeObjects, "serve-objects", envServeObjects, "serve objects' bytes at /files/<key> (ranges, conditional requests) and link the index's files there; on with --demo unless set")
	d.boolean(&cfg.Demo, "demo", envDemo, "serve an in-memory bucket seeded with a small tree; no AWS account needed")
	// The one flag without a variable: BUCKETLS_VERSION=true in a unit's
	// environment would make the service exit instead of serving.
	d.fs.Bool("version", false, "print the version and exit")
	return d.fs
}

// flagDecls declares typed flags whose default is their environment
// variable's value, else the built-in default; a variable that does not
// parse is noted in envErrs (see envDefault).
type flagDecls struct {
	fs      *flag.FlagSet
	getenv  func(string) string
	envErrs map[string]error
}

func (d flagDecls) str(p *string, name, env, def, usage string) {
	if v := d.getenv(env); v != "" {
		def = v
	}
	d.fs.StringVar(p, name, def, usage+" (env "+env+")")
}

func (d flagDecls) boolean(p *bool, name, env, usage string) {
	def := envDefault(d.getenv, d.envErrs, name, env, false, strconv.ParseBool, "is not a boolean (use true or false)")
	d.fs.BoolVar(p, name, def, usage+" (env "+env+")")
}

func (d flagDecls) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	def = envDefault(d.getenv, d.envErrs, name, env, def, time.ParseDuration, "is not a duration (use e.g. 1s or 500ms)")
	d.fs.DurationVar(p, name, def, usage+" (env "+env+")")
}

func (d flagDecls) integer(p *int, name, env string, def int, usage string) {
	def = envDefault(d.getenv, d.envErrs, name, env, def, strconv.Atoi, "is not a whole number")
	d.fs.IntVar(p, name, def, usage+" (env "+env+")")
}

func (d flagDecls) size(p *int64, name, env string, def int64, usage string) {
	*p = envDefault(d.getenv, d.envErrs, name, env, def, parseBytes, notASize)
	d.fs.Var((*byteSize)(p), name, usage+" (env "+env+")")
}

// list declares a comma-separated list flag: the variable's value unless
// the flag is given, which replaces it. With repeat, each use of the flag
// adds to the list; without, the last use wins.
func (d flagDecls) list(p *[]string, name, env string, split func(string) []string, repeat bool, usage string) {
	*p = split(d.getenv(env))
	fromFlags := false
	d.fs.Func(name, usage+" (env "+env+")", func(v string) error {
		if !repeat || !fromFlags {
			*p, fromFlags = nil, true // the flag replaces the variable
		}
		*p = append(*p, split(v)...)
		return nil
	})
}

// envDefault is the default of flag name: env's value parsed by parse when
// env is set, else def. A value that does not parse is noted in envErrs as
// "ENV=value <reason>", reported only if the flag does not override it.
func envDefault[T any](getenv func(string) string, envErrs map[string]error, name, env string, def T, parse func(string) (T, error), reason string) T {
	v := getenv(env)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		envErrs[name] = fmt.Errorf("%s=%q %s", env, v, reason)
	}
	return x
}

// errVersion is parseConfig's answer to --version, which, like --help,
// needs no other flag.
var errVersion = errors.New("version requested")

// parseConfig reads flags from args, falling back to the environment
// through getenv, and validates the result. Every error is a *ConfigError
// with one line of text, except flag.ErrHelp for -h/--help and errVersion
// for --version.
func parseConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := Config{ShutdownTimeout: defaultShutdownTimeout}
	envErrs := map[string]error{}
	fs := newFlagSet(&cfg, getenv, envErrs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, configErrorf("%v (see --help)", err)
	}
	if fs.Lookup("version").Value.String() == "true" {
		return cfg, errVersion
	}
	if fs.NArg() > 0 {
		return cfg, configErrorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range []string{"cache-ttl", "cache-max-age", "cache-stale", "request-timeout", "stall-timeout", "tls-self-signed", "demo", "metrics-public", "memory-target", "pprof-public", "view-cap", "serve-objects"} {
		if err := envErrs[name]; err != nil && !set[name] {
			return cfg, &ConfigError{Msg: err.Error()}
		}
	}
	// The max-age defaults to the TTL: a listing is as fresh for clients
	// as it is in the process. The stale window stays off unless asked
	// for: it lets an answer be older than the TTL, which a deploy that
	// relies on the TTL's bound must choose.
	if !set["cache-max-age"] && getenv(envCacheMaxAge) == "" {
		cfg.CacheMaxAge = cfg.CacheTTL.Truncate(time.Second)
	}
	if cfg.Demo && !set["serve-objects"] && getenv(envServeObjects) == "" {
		cfg.ServeObjects = true // a newcomer's first click on a file opens it
	}
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// validate checks every field and names the flag, the bad value and the fix.
func (c Config) validate() error {
	switch {
	case c.Bucket == "" && !c.Demo:
		return configErrorf("no bucket: set --bucket or %s (or try --demo)", envBucket)
	case c.Bucket != "" && !s3name.ValidBucket(c.Bucket):
		return configErrorf("--bucket %q is not an S3 bucket name (3-255 letters, digits, '.', '-' or '_', starting and ending with a letter or digit)", c.Bucket)
	case c.CacheTTL < 0:
		return configErrorf("--cache-ttl %s is negative; use 0 to turn the cache off", c.CacheTTL)
	case c.CacheMaxAge < 0 || c.CacheMaxAge%time.Second != 0:
		return configErrorf("--cache-max-age %s is not a whole number of seconds (Cache-Control counts seconds); use e.g. 0, 2s or 1m", c.CacheMaxAge)
	case c.CacheStale < 0:
		return configErrorf("--cache-stale %s is negative; use 0 to turn stale answers off", c.CacheStale)
	case c.RequestTimeout < 0:
		return configErrorf("--request-timeout %s is negative; use 0 for no bound", c.RequestTimeout)
	case c.StallTimeout <= 0:
		return configErrorf("--stall-timeout %s must be positive, e.g. 30s", c.StallTimeout)
	case viewcap.Check(c.ViewCap) != nil:
		return configErrorf("--view-cap %d: use a whole number from 1 to %d", c.ViewCap, viewcap.Max)
	case c.Demo && c.S3Endpoint != "":
		return configErrorf("--demo serves its own in-memory S3; drop --s3-endpoint")
	}
	if err := s3name.CheckRootPrefix(c.RootPrefix); err != nil {
		return configErrorf("--root-prefix (%s) %q is invalid (%v); write the key prefix without a slash at either end, like reports or team/2024 (empty serves the whole bucket)", envRootPrefix, printable(c.RootPrefix), err)
	}
	if err := checkAddr("--addr", c.Addr); err != nil {
		return err
	}
	if err := c.checkPprof(); err != nil {
		return err
	}
	if _, err := hidden.Parse(c.Hide); err != nil {
		return configErrorf("--hide (%s): %v", envHide, err)
	}
	if _, err := corsorigin.Parse(c.CORSOrigins); err != nil {
		return configErrorf("--cors-origins: %v", err)
	}
	if c.S3Endpoint != "" {
		u, err := url.Parse(c.S3Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return configErrorf("--s3-endpoint %q is not an http(s) URL like http://127.0.0.1:9000", c.S3Endpoint)
		}
	}
	return c.checkTLS()
}

// checkPprof checks --pprof-addr: a port of its own, and loopback unless
// --pprof-public says otherwise.
func (c Config) checkPprof() error {
	if c.PprofAddr == "" {
		if c.PprofPublic {
			return configErrorf("--pprof-public needs --pprof-addr")
		}
		return nil
	}
	if err := checkAddr("--pprof-addr", c.PprofAddr); err != nil {
		return err
	}
	if c.PprofAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		return configErrorf("--pprof-addr %q is also --addr; give the profiles their own port", c.PprofAddr)
	}
	if host, port, _ := net.SplitHostPort(c.PprofAddr); !c.PprofPublic && !isLoopback(host) {
		return configErrorf("--pprof-addr %q listens beyond this host, and the profiles (goroutine dumps, CPU profiles) have no password: use 127.0.0.1:%s, or add --pprof-public (%s=true) if that is meant", c.PprofAddr, port, envPprofPublic)
	}
	return nil
}

// checkTLS checks the HTTPS listener's flags: an address of its own and
// exactly one source of a certificate.
func (c Config) checkTLS() error {
	hasFiles := c.TLSCert != "" || c.TLSKey != ""
	switch {
	case c.TLSAddr == "" && (hasFiles || c.TLSSelfSigned):
		return configErrorf("--tls-cert, --tls-key and --tls-self-signed need --tls-addr (e.g. :8443)")
	case c.TLSAddr == "":
		return nil
	case hasFiles && c.TLSSelfSigned:
		return configErrorf("use either --tls-cert/--tls-key or --tls-self-signed, not both")
	case !hasFiles && !c.TLSSelfSigned:
		return configErrorf("--tls-addr needs --tls-cert and --tls-key, or --tls-self-signed")
	case hasFiles && (c.TLSCert == "" || c.TLSKey == ""):
		return configErrorf("--tls-cert and --tls-key go together; set both")
	}
	if err := checkAddr("--tls-addr", c.TLSAddr); err != nil {
		return err
	}
	if c.TLSAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		return configErrorf("--tls-addr %q is also --addr; give HTTPS its own port", c.TLSAddr)
	}
	return nil
}

// byteUnits are the suffixes parseBytes takes, as GOMEMLIMIT does.
var byteUnits = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// notASize is why parseBytes refuses a value.
const notASize = "is not a size like 24MiB, 512KiB or 0 (whole bytes, KiB, MiB or GiB, at most 1TiB)"

// parseBytes reads a size like 24MiB, 512KiB or 25165824 (bytes).
func parseBytes(v string) (int64, error) {
	num, shift := v, uint(0)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<40)>>shift {
		return 0, errors.New(notASize)
	}
	return n << shift, nil
}

// byteSize is a flag.Value for a size parseBytes reads.
type byteSize int64

// String writes the size as parseBytes reads it, in the largest unit that
// divides it ("24MiB"); --help shows it as the default.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range byteUnits {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return "0"
}

// Set implements flag.Value.
func (b *byteSize) Set(v string) error {
	n, err := parseBytes(v)
	*b = byteSize(n)
	return err
}

// splitList splits a comma-separated list, dropping blanks around and
// between the items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// splitOrigins splits a comma-separated list and writes the origins as
// browsers send them (package corsorigin: lowercase, no trailing slash or
// default port), so that they match the Origin header; a list with a bad
// entry is kept as written, for validate to name the entry.
func splitOrigins(v string) []string {
	list := splitList(v)
	if origins, err := corsorigin.Parse(list); err == nil {
		return origins
	}
	return list
}

// isLoopback reports whether a listen host reaches this machine only:
// "localhost" or a loopback IP. An empty host, "0.0.0.0" or "::" listen
// on every interface; any other name may resolve to anything.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAddr accepts host:port with a numeric port from 0 to 65535 (0 picks
// a free port, as tests do); whether the address can be bound is for
// net.Listen to tell.
func checkAddr(flagName, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err != nil {
		return configErrorf("%s %q is not a listen address like :8080 or 127.0.0.1:8080", flagName, addr)
	}
	return nil
}

// Users is a loaded htpasswd file: the users [NewServer] admits.
type Users = htpasswd.File

// LoadUsers reads and parses the htpasswd file at path (--htpasswd). Every
// error is a *ConfigError naming the flag, the file and, for a bad entry,
// the line.
func LoadUsers(path string) (*Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, configErrorf("--htpasswd (%s): cannot read it: %v", envHtpasswd, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, htpasswd.MaxFileBytes+1))
	switch {
	case err != nil:
		return nil, configErrorf("--htpasswd (%s): cannot read %s: %v", envHtpasswd, path, err)
	case len(data) > htpasswd.MaxFileBytes:
		return nil, configErrorf("--htpasswd %s is larger than 1 MiB; is it an htpasswd file?", path)
	}
	u, err := htpasswd.Parse(data)
	if err != nil {
		return nil, configErrorf("--htpasswd %s: %v", path, err)
	}
	return u, nil
}

// usage writes --help: what bucketls does, then every flag with its env
// variable and default.
func usage(w io.Writer) {
	var cfg Config
	fs := newFlagSet(&cfg, func(string) string { return "" }, map[string]error{})
	fmt.Fprint(w, `Usage: bucketls [flags]

Serves GET /list-bucket-content/<path>: the immediate children of <path> in
one S3 bucket, as {"content":[...]}. Also /healthz, /readyz and /metrics.
Region and credentials come from the AWS SDK's default chain (AWS_REGION,
AWS_PROFILE, environment keys, the EC2 instance role).

Flags (each falls back to the environment variable named with it):
`)
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(help, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bucketls/bucketls/internal/gobuild"
	"github.com/bucketls/bucketls/stack"
	"github.com/bucketls/bucketls/stack/tftemplate"
)

// enableVar opts in to the boot rehearsal.
const enableVar = "BUCKETLS_E2E"

// rehearsalPackages are the Debian packages the rehearsal runs on the host.
var rehearsalPackages = "qemu-system-x86 qemu-utils mmdebstrap genisoimage socat"

// Names the rehearsal's world gives to the buckets that Terraform would name
// at apply time.
const (
	rehearsalArtifactBucket = "bucketls-rehearsal-artifacts"
	rehearsalServedBucket   = "bucketls-rehearsal-served"
	rehearsalMissingBucket  = "bucketls-rehearsal-no-such-bucket"
	rehearsalSubtreeBucket  = "bucketls-rehearsal-subtree"
)

// The subtree deploy: a root prefix, and a password from Parameter Store.
const (
	rehearsalRootPrefix = "team/reports"
	rehearsalParameter  = "/bucketls/rehearsal/htpasswd"
	rehearsalUser       = "alice"
	rehearsalPassword   = "correct horse battery staple"
)

// rehearsalDecoys are keys of the subtree bucket outside the root prefix,
// some sharing its first bytes: none may ever be listed.
var rehearsalDecoys = []string{"secret-outside", "team/secret", "team/reports-other/secret", "team/reportsx"}

// Deadlines under software emulation (about 60-100 s from power-on to the
// first answer on a 2-core machine).
const (
	firstAnswerTimeout = 6 * time.Minute
	reportTimeout      = 6 * time.Minute
	// kernelTimeout bounds the kernel's own boot (power-on to init), a few
	// seconds when it goes well.
	kernelTimeout = 2 * time.Minute
)

// TestBootRehearsal boots the rehearsal guest from the stack's synthesized
// user data and artifact four times: as deployed (the reference listing must
// answer over curl, served by a non-root user that logs and reports the
// version of the sources it was built from), with a tampered artifact
// (nothing may run and cloud-init must report the failure), with a bucket
// that does not exist (502 JSON, the service keeps running), and, from a
// second synth, with a root prefix, a password fetched from Parameter
// Store, serveObjects and the other opt-in service settings (401 without
// credentials, the subtree with them, nothing outside it ever listed; a
// seeded object downloaded whole and by range, its SHA-256 checked; a
// hidden name, a wildcard CORS origin and the view cap as set).
func TestBootRehearsal(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skipf("boot rehearsal is opt-in: set %s=1 (needs root and the Debian packages %s; .ci/run installs them)", enableVar, rehearsalPackages)
	}
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img", "mmdebstrap", "genisoimage", "socat", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s=1 but %s is missing: apt-get install %s", enableVar, tool, rehearsalPackages)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatalf("%s=1 but not root: mmdebstrap and mkfs.ext4 -d need root to build the guest image", enableVar)
	}
	ctx := context.Background()
	work := t.TempDir()

	phase := time.Now()
	imageDir := os.Getenv("BUCKETLS_E2E_CACHE") // optional: keep the image between runs
	if imageDir == "" {
		imageDir = filepath.Join(work, "image")
		if err := os.Mkdir(imageDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mirror := envOr("BUCKETLS_E2E_MIRROR", "http://deb.debian.org/debian")
	img, err := BuildImage(imageDir, "bookworm", mirror, t.Logf)
	if err != nil {
		t.Fatalf("build the guest image: %v", err)
	}
	t.Logf("timing: image %s", time.Since(phase).Round(time.Second))

	phase = time.Now()
	synth, err := ReadSynthesized(synthesize(t, filepath.Join(work, "cdktf.out"), stack.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("timing: synth %s", time.Since(phase).Round(time.Second))
	artifact, err := os.ReadFile(synth.ArtifactFile)
	if err != nil {
		t.Fatal(err)
	}

	// The world: IMDS and S3 on host loopback, shared by the three boots.
	imds := NewIMDS(stack.DefaultConfig().Region, "bucketls-instance")
	imdsServer := httptest.NewServer(imds)
	defer imdsServer.Close()
	world, err := StartS3()
	if err != nil {
		t.Fatal(err)
	}
	defer world.Close()
	if err := world.Seed(ctx, rehearsalServedBucket, ""); err != nil {
		t.Fatal(err)
	}
	ssm := NewSSM(stack.DefaultConfig().Region)
	ssmServer := httptest.NewServer(ssm)
	defer ssmServer.Close()
	tampered := append([]byte(nil), artifact...)
	tampered[len(tampered)/2] ^= 0xff
	// The tampered boot reads its artifact from its own bucket, so the
	// intact artifact stays where the other boots expect it.
	const tamperedBucket = rehearsalArtifactBucket + "-tampered"
	for bucket, body := range map[string][]byte{rehearsalArtifactBucket: artifact, tamperedBucket: tampered} {
		if err := world.Put(ctx, bucket, synth.ArtifactKey, body); err != nil {
			t.Fatal(err)
		}
	}

	boot := func(t *testing.T, synth Synthesized, artifactBucket, servedBucket string) *VM {
		t.Helper()
		script, subs := render(t, synth, artifactBucket, servedBucket)
		for _, s := range subs {
			t.Logf("substitution: ${%s} -> %q", s.Reference, s.Value)
		}
		start := func() *VM {
			vm, err := BootVM(VMConfig{
				Image: img, Dir: t.TempDir(), UserData: []byte(script),
				IMDS: strings.TrimPrefix(imdsServer.URL, "http://"),
				S3:   strings.TrimPrefix(world.URL, "http://"),
				SSM:  strings.TrimPrefix(ssmServer.URL, "http://"),
			})
			if err != nil {
				t.Fatal(err)
			}
			return vm
		}
		vm := start()
		if !vm.ReachedInit(kernelTimeout) {
			// The emulated kernel now and then stalls in early boot on a
			// loaded host, before anything of ours runs: that says nothing
			// about the deploy, so boot once more. A second stall fails.
			t.Logf("the guest kernel did not start init within %s; booting again. Console tail:\n%s", kernelTimeout, vm.ConsoleTail(8))
			vm.Stop()
			vm = start()
		}
		t.Cleanup(vm.Stop)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("guest console (tail):\n%s", vm.ConsoleTail(60))
				t.Logf("IMDS requests: %v", imds.Requests())
				t.Logf("SSM requests: %v", ssm.Requests())
				t.Logf("S3 listings: %v", world.Lists())
			}
		})
		return vm
	}

	t.Run("as deployed", func(t *testing.T) {
		start := time.Now()
		vm := boot(t, synth, rehearsalArtifactBucket, rehearsalServedBucket)
		ctx, cancel := context.WithTimeout(context.Background(), firstAnswerTimeout)
		defer cancel()
		// cloud-init's final stage is where EC2 user data runs.
		if err := vm.WaitConsole(ctx, "running 'modules:final'"); err != nil {
			t.Fatal(err)
		}
		t.Logf("timing: boot (power-on to user data) %s", time.Since(start).Round(time.Second))
		userData := time.Now()
		base := fmt.Sprintf("http://127.0.0.1:%d", vm.HTTPPort)
		waitForAnswer(t, vm, base+"/healthz")
		t.Logf("timing: first answer (user data to /healthz 200) %s; %s from power-on",
			time.Since(userData).Round(time.Second), time.Since(start).Round(time.Second))
		// Ready once the service has reached S3 (credentials from IMDS, a
		// first listing): under emulation on a loaded host that first call
		// can outlast a listing's S3 timeout.
		waitForAnswer(t, vm, base+"/readyz")

		tests := []struct {
			path, wantBody string
			wantStatus     int
		}{
			{"/list-bucket-content", `{"content":["dir1","dir2","file1","file2"]}`, 200},
			{"/list-bucket-content/dir1", `{"content":[]}`, 200},
			{"/list-bucket-content/dir2", `{"content":["file1","file2"]}`, 200},
			{"/list-bucket-content/nope", "", 404},
			{"/healthz", "", 200},
		}
		for _, tt := range tests {
			status, body := get(t, base+tt.path)
			if status != tt.wantStatus {
				t.Errorf("GET %s: status = %d, want %d (body %s)", tt.path, status, tt.wantStatus, body)
			}
			if tt.wantBody != "" && strings.TrimSpace(body) != tt.wantBody {
				t.Errorf("GET %s: body = %s, want %s", tt.path, body, tt.wantBody)
			}
			if tt.wantStatus == 404 && !strings.Contains(body, `"error"`) {
				t.Errorf("GET %s: body = %s, want a JSON error", tt.path, body)
			}
		}
		if stack.DefaultConfig().TLS {
			status, body := get(t, fmt.Sprintf("https://127.0.0.1:%d/list-bucket-content/dir2", vm.HTTPSPort))
			if status != 200 || strings.TrimSpace(body) != `{"content":["file1","file2"]}` {
				t.Errorf("GET https .../dir2: %d %s", status, body)
			}
		}

		report := waitReport(t, vm)
		if report["status"] != "done" || report["cloud_init_errors"] != "[]" || report["bucketls_active"] != "active" {
			t.Errorf("guest report: cloud-init %q, errors %s, bucketls %q; want done, [], active",
				report["status"], report["cloud_init_errors"], report["bucketls_active"])
		}
		if uid := report["bucketls_uid"]; uid == "" || uid == "0" || report["bucketls_user"] == "root" {
			t.Errorf("bucketls runs as user %q uid %q; want a non-root user", report["bucketls_user"], uid)
		}
		checkVersion(t, report["bucketls_serving"], base)
		if !strings.Contains(strings.Join(imds.Requests(), "\n"), "PUT /latest/api/token") {
			t.Errorf("the guest never asked IMDS for a v2 token: %v", imds.Requests())
		}
	})

	t.Run("tampered artifact", func(t *testing.T) {
		vm := boot(t, synth, tamperedBucket, rehearsalServedBucket)
		report := waitReport(t, vm)
		if report["status"] != "error" || !strings.Contains(report["cloud_init_errors"], "scripts-user") {
			t.Errorf("cloud-init status = %q, errors %s; want error from scripts-user (the user data must fail)",
				report["status"], report["cloud_init_errors"])
		}
		if report["bucketls_active"] == "active" || report["binary_installed"] != "no" {
			t.Errorf("after a checksum mismatch: bucketls %q, binary installed %q; want nothing running or installed", report["bucketls_active"], report["binary_installed"])
		}
		if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", vm.HTTPPort)); err == nil {
			// hostfwd accepts and then drops the connection when nothing
			// listens in the guest, so any answer at all is a failure.
			t.Errorf("port 80 answered after a checksum mismatch")
		}
		if console, _ := os.ReadFile(vm.ConsoleLog); !strings.Contains(string(console), "checksum mismatch") {
			t.Errorf("the console log does not say why the boot failed")
		}
	})

	t.Run("missing bucket", func(t *testing.T) {
		vm := boot(t, synth, rehearsalArtifactBucket, rehearsalMissingBucket)
		base := fmt.Sprintf("http://127.0.0.1:%d", vm.HTTPPort)
		waitForAnswer(t, vm, base+"/healthz")
		status, body := get(t, base+"/list-bucket-content")
		var e struct{ Error string }
		if status != http.StatusBadGateway || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Errorf("GET /list-bucket-content on a missing bucket: %d %s; want 502 with a JSON error", status, body)
		}
		if status, _ := get(t, base+"/healthz"); status != 200 {
			t.Errorf("GET /healthz after the 502: status = %d; the service must keep running", status)
		}
		if report := waitReport(t, vm); report["bucketls_active"] != "active" || report["status"] != "done" {
			t.Errorf("after a 502: bucketls %q, cloud-init %q; want active, done (a missing bucket is not a failed boot)",
				report["bucketls_active"], report["status"])
		}
	})

	t.Run("subtree behind a password", func(t *testing.T) {
		cfg := stack.DefaultConfig()
		cfg.RootPrefix, cfg.HTPasswdParameter, cfg.ServeObjects = rehearsalRootPrefix, rehearsalParameter, true
		// The opt-in service settings, so the deployed unit hands each to
		// the real service: a value it refused would stop the boot.
		cfg.Hide, cfg.CORSOrigins = []string{"*" + rehearsalHiddenSuffix}, []string{rehearsalCORSOrigins}
		cfg.CacheStale, cfg.ViewCap = 2*time.Second, rehearsalViewCap
		subtree, err := ReadSynthesized(synthesize(t, filepath.Join(work, "cdktf-subtree.out"), cfg))
		if err != nil {
			t.Fatal(err)
		}
		if subtree.ArtifactKey != synth.ArtifactKey {
			t.Fatalf("the subtree synth built another artifact (%s, not %s)", subtree.ArtifactKey, synth.ArtifactKey)
		}
		if err := world.Seed(ctx, rehearsalSubtreeBucket, rehearsalRootPrefix); err != nil {
			t.Fatal(err)
		}
		for _, key := range rehearsalDecoys {
			if err := world.Put(ctx, rehearsalSubtreeBucket, key, []byte("never listed")); err != nil {
				t.Fatal(err)
			}
		}
		// An object for serveObjects to stream: larger than the service's
		// copy buffer, random, so only the right bytes have its hash.
		blob := make([]byte, rehearsalBlobSize)
		if _, err := rand.Read(blob); err != nil {
			t.Fatal(err)
		}
		if err := world.Put(ctx, rehearsalSubtreeBucket, rehearsalRootPrefix+"/"+rehearsalBlob, blob); err != nil {
			t.Fatal(err)
		}
		// hide: never listed in dir2 (its expected listing below is
		// exact), never served.
		if err := world.Put(ctx, rehearsalSubtreeBucket, rehearsalRootPrefix+"/dir2/notes"+rehearsalHiddenSuffix, []byte("never listed")); err != nil {
			t.Fatal(err)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(rehearsalPassword), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		ssm.PutSecureString(rehearsalParameter, rehearsalUser+":"+string(hash)+"\n")

		vm := boot(t, subtree, rehearsalArtifactBucket, rehearsalSubtreeBucket)
		base := fmt.Sprintf("http://127.0.0.1:%d", vm.HTTPPort)
		waitForAnswer(t, vm, base+"/healthz")
		// With tls and a password the service sends plain HTTP to HTTPS
		// (308), so no password crosses in clear; the listing answers
		// over HTTPS.
		listBase := base
		if stack.DefaultConfig().TLS {
			listBase = fmt.Sprintf("https://127.0.0.1:%d", vm.HTTPSPort)
			status, location := noFollow(t, base+"/list-bucket-content/dir2")
			if status != http.StatusPermanentRedirect || location != "https://127.0.0.1/list-bucket-content/dir2" {
				t.Errorf("GET dir2 over plain HTTP: %d to %q, want 308 to https://127.0.0.1/list-bucket-content/dir2", status, location)
			}
		}
		waitForAnswer(t, vm, listBase+"/readyz") // as above; /readyz needs no password
		// The boot script's own check (401 without credentials) must have
		// passed for cloud-init to finish without errors.
		report := waitReport(t, vm)
		if report["status"] != "done" || report["cloud_init_errors"] != "[]" || report["bucketls_active"] != "active" {
			t.Errorf("guest report: cloud-init %q, errors %s, bucketls %q; want done, [], active",
				report["status"], report["cloud_init_errors"], report["bucketls_active"])
		}
		if got, want := strings.Join(ssm.Requests(), "; "), "AmazonSSM.GetParameter "+rehearsalParameter+" decrypt=true"; got != want {
			t.Errorf("SSM requests = %q, want exactly one: %q", got, want)
		}

		tests := []struct {
			name, path, user, password string
			wantStatus                 int
			wantBody                   string // "" = do not check
		}{
			{"no credentials", "/list-bucket-content", "", "", 401, ""},
			{"wrong password", "/list-bucket-content", rehearsalUser, "wrong", 401, ""},
			// The reference tree the stack seeds under the prefix, and
			// the blob this boot put there for checkFiles.
			{"the subtree's root", "/list-bucket-content", rehearsalUser, rehearsalPassword, 200, `{"content":["` + rehearsalBlob + `","dir1","dir2","file1","file2"]}`},
			{"a directory in it", "/list-bucket-content/dir2", rehearsalUser, rehearsalPassword, 200, `{"content":["file1","file2"]}`},
			{"out through a dot segment", "/list-bucket-content/..", rehearsalUser, rehearsalPassword, 400, ""},
			{"out through an encoded slash", "/list-bucket-content/%2E%2E%2Fsecret-outside", rehearsalUser, rehearsalPassword, 400, ""},
			{"health needs no password", "/healthz", "", "", 200, ""},
		}
		for _, tt := range tests {
			status, body, header := getAs(t, listBase+tt.path, tt.user, tt.password)
			if status != tt.wantStatus {
				t.Errorf("%s: GET %s: status = %d, want %d (body %s)", tt.name, tt.path, status, tt.wantStatus, body)
			}
			if tt.wantBody != "" && strings.TrimSpace(body) != tt.wantBody {
				t.Errorf("%s: GET %s: body = %s, want %s", tt.name, tt.path, body, tt.wantBody)
			}
			if status == 401 && !strings.HasPrefix(header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: GET %s: 401 without WWW-Authenticate: Basic (%q)", tt.name, tt.path, header.Get("WWW-Authenticate"))
			}
			for _, decoy := range rehearsalDecoys {
				if name := decoy[strings.LastIndex(decoy, "/")+1:]; status == 200 && strings.Contains(body, name) {
					t.Errorf("%s: GET %s lists %q, outside the subtree: %s", tt.name, tt.path, decoy, body)
				}
			}
		}
		checkFiles(t, listBase, blob)
		checkOptIns(t, listBase)
		// Every listing the service asked S3 for stayed inside the prefix.
		var lists int
		for _, l := range world.Lists() {
			if !strings.HasPrefix(l, rehearsalSubtreeBucket+" ") {
				continue
			}
			lists++
			if !strings.HasPrefix(l, rehearsalSubtreeBucket+" prefix="+rehearsalRootPrefix+"/") {
				t.Errorf("the service listed %q, outside %s/", l, rehearsalRootPrefix)
			}
		}
		if lists == 0 {
			t.Errorf("no listing of %s reached S3: %v", rehearsalSubtreeBucket, world.Lists())
		}
	})
}

// The object the serveObjects boot downloads, under the root prefix.
const (
	rehearsalBlob     = "blob.bin"
	rehearsalBlobSize = 3<<20 + 17
)

// checkFiles downloads the seeded blob through /files (serveObjects) as the
// rehearsal user, whole and its last bytes by range, and checks its
// SHA-256; without credentials, outside the subtree and for a directory it
// gets nothing.
func checkFiles(t *testing.T, base string, blob []byte) {
	t.Helper()
	status, body, header := getAs(t, base+"/files/"+rehearsalBlob, rehearsalUser, rehearsalPassword)
	got, want := sha256.Sum256([]byte(body)), sha256.Sum256(blob)
	if status != 200 || got != want || header.Get("Content-Length") != strconv.Itoa(len(blob)) {
		t.Errorf("GET /files/%s: %d, %d bytes, SHA-256 %x, Content-Length %s; want 200 and %d bytes with SHA-256 %x",
			rehearsalBlob, status, len(body), got, header.Get("Content-Length"), len(blob), want)
	}
	if header.Get("Content-Security-Policy") == "" || header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /files/%s: no sandbox CSP or nosniff: %v", rehearsalBlob, header)
	}
	status, body, header = getWith(t, base+"/files/"+rehearsalBlob, rehearsalUser, rehearsalPassword, http.Header{"Range": {"bytes=-100"}})
	if status != http.StatusPartialContent || body != string(blob[len(blob)-100:]) ||
		header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", len(blob)-100, len(blob)-1, len(blob)) {
		t.Errorf("GET /files/%s, the last 100 bytes: %d %q, %d bytes", rehearsalBlob, status, header.Get("Content-Range"), len(body))
	}
	for _, tt := range []struct {
		path, user string
		want       int
	}{
		{"/files/" + rehearsalBlob, "", 401},
		{"/files/..%2Fsecret-outside", rehearsalUser, 400},
		{"/files/secret-outside", rehearsalUser, 404},
		{"/files/dir1/", rehearsalUser, 404},
		{"/files/dir2/file1", rehearsalUser, 200},
		{"/files/dir2/notes" + rehearsalHiddenSuffix, rehearsalUser, 404},
	} {
		password := ""
		if tt.user != "" {
			password = rehearsalPassword
		}
		if status, body, _ := getAs(t, base+tt.path, tt.user, password); status != tt.want || strings.Contains(body, "never listed") {
			t.Errorf("GET %s as %q: %d %.100s, want %d", tt.path, tt.user, status, body, tt.want)
		}
	}
}

// The subtree boot's opt-in settings: hide, corsOrigins with a wildcard
// label, viewCap (small enough that the subtree's root is over it) and
// cacheStale.
const (
	rehearsalHiddenSuffix = ".secret"
	rehearsalCORSOrigins  = "https://*.example.com"
	rehearsalViewCap      = 3
)

// checkOptIns: the unit passed corsOrigins and viewCap to the service as
// the service reads them. A page of an origin under the wildcard may read
// a listing, one beside it may not; a sorted view of the subtree's root
// (five entries) is over the cap of 3, so it comes unsorted and says so.
func checkOptIns(t *testing.T, base string) {
	t.Helper()
	for origin, allowed := range map[string]bool{"https://app.example.com": true, "https://evil-example.com": false} {
		status, _, header := getWith(t, base+"/list-bucket-content/dir2", rehearsalUser, rehearsalPassword, http.Header{"Origin": {origin}})
		if got := header.Get("Access-Control-Allow-Origin"); status != 200 || (got == origin) != allowed {
			t.Errorf("GET dir2 from %s: %d, Access-Control-Allow-Origin %q; allowed by %s: %v", origin, status, got, rehearsalCORSOrigins, allowed)
		}
	}
	status, body, _ := getAs(t, base+"/list-bucket-content?sort=name", rehearsalUser, rehearsalPassword)
	if want := fmt.Sprintf(`"overCap":%d`, rehearsalViewCap); status != 200 || !strings.Contains(body, want) {
		t.Errorf("GET the root sorted: %d %s; want 200 with %s", status, body, want)
	}
}

// checkVersion: the deployed unit's "serving" line (servingLine, from the
// guest's journal) and its /metrics name the version of the sources the
// stack built it from.
func checkVersion(t *testing.T, servingLine, base string) {
	t.Helper()
	moduleDir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	want, err := gobuild.Version(moduleDir, stack.DefaultConfig().Arch)
	if err != nil {
		t.Fatal(err)
	}
	var serving struct{ Msg, Version string }
	if err := json.Unmarshal([]byte(servingLine), &serving); err != nil || serving.Msg != "serving" || serving.Version != want {
		t.Errorf("the unit's serving line %q (%v): want version %s", servingLine, err, want)
	}
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, `bucketls_build_info{goversion="`) || !strings.Contains(body, `,version="`+want+`"} 1`) {
		t.Errorf("GET /metrics names no build with version %s", want)
	}
}

// synthesize runs stack.Synth, as main.go does, with cfg into outdir and
// returns the stack's directory (the one holding cdk.tf.json).
func synthesize(t *testing.T, outdir string, cfg stack.Config) string {
	t.Helper()
	moduleDir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cfg.ModuleDir = moduleDir
	res, err := stack.Synth(outdir, cfg)
	if err != nil {
		t.Fatalf("stack.Synth: %v", err)
	}
	return res.Dir
}

// render does what Terraform does to the user data before it reaches EC2,
// giving every bucket reference its rehearsal name: the artifact bucket's
// reference gets artifactBucket, any other bucket reference (the seeded
// served bucket) gets servedBucket. Any other reference has no value and
// fails the test: the stack's user data may hold generated bucket names
// only.
func render(t *testing.T, s Synthesized, artifactBucket, servedBucket string) (string, []tftemplate.Substitution) {
	t.Helper()
	refs, err := tftemplate.References(s.UserData)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "aws_s3_bucket.") {
			continue
		}
		values[ref] = servedBucket
		if "${"+ref+"}" == s.ArtifactBucket {
			values[ref] = artifactBucket
		}
	}
	if !strings.Contains(s.ArtifactBucket, "${") {
		t.Fatalf("artifact bucket %q is literal; the rehearsal expects a generated name", s.ArtifactBucket)
	}
	script, subs, err := tftemplate.Render(s.UserData, values)
	if err != nil {
		t.Fatal(err)
	}
	return script, subs
}

// waitForAnswer polls url until it answers 200 or the guest's deadline passes.
func waitForAnswer(t *testing.T, vm *VM, url string) {
	t.Helper()
	client := &http.Client{
		Timeout: 3 * time.Second,
		// The instance's certificate is self-signed by design.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	deadline := time.Now().Add(firstAnswerTimeout)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if exited, err := vm.Exited(); exited {
			t.Fatalf("qemu exited before %s answered: %v", url, err)
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("no answer from %s within %s", url, firstAnswerTimeout)
}

func waitReport(t *testing.T, vm *VM) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	report, err := vm.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guest report: %v", report)
	return report
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	status, body, _ := getAs(t, url, "", "")
	return status, body
}

// getAs is get with HTTP Basic credentials, when user is not empty, and
// the response's header.
func getAs(t *testing.T, url, user, password string) (int, string, http.Header) {
	t.Helper()
	return getWith(t, url, user, password, nil)
}

// getWith is getAs sending header too.
func getWith(t *testing.T, url, user, password string, header http.Header) (int, string, http.Header) {
	t.Helper()
	client := &http.Client{
		Timeout: 10 * time.Second,
		// The instance's certificate is self-signed by design.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// noFollow is GET url without following a redirect: the status and the
// Location.
func noFollow(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

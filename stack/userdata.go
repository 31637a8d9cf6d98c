package stack

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Paths and names shared by the boot script, the unit and the tests.
const (
	installPath = "/usr/local/bin/bucketls"
	unitName    = "bucketls.service"
	unitPath    = "/etc/systemd/system/" + unitName
	// healthWaitSeconds bounds the wait for /healthz after start: long enough
	// for a slow first start, short enough that a broken deploy fails the
	// boot visibly instead of hanging cloud-init.
	healthWaitSeconds = 60
	// downloadAttempts covers IAM propagation: the instance can boot before
	// its fresh role is usable (waits 3+6+...+21 s = 84 s at most).
	downloadAttempts = 8
	// maxUserData is the EC2 limit for user data.
	maxUserData = 16 * 1024
	// fetchPath is the helper that fetches the htpasswd file from SSM, and
	// htpasswdPath the root-only file it writes, which systemd hands to
	// the service as the credential htpasswdCredential.
	fetchPath          = "/usr/local/sbin/bucketls-fetch-htpasswd"
	htpasswdDir        = "/etc/bucketls"
	htpasswdPath       = htpasswdDir + "/htpasswd"
	htpasswdCredential = "htpasswd"
	// logPrefix starts every line the boot script logs (cloud-init copies
	// them to the console log and /var/log/cloud-init-output.log).
	logPrefix = "bucketls-userdata:"
)

// bootScript holds what the instance's user data needs. The two bucket names
// may be Terraform references (generated names are unknown at synth); all
// other values are literals.
type bootScript struct {
	Region         string
	ArtifactBucket string // name of the artifact bucket, or a reference to it
	ArtifactKey    string
	ArtifactSHA256 string // lowercase hex
	ServedBucket   string // name of the bucket the service lists, or a reference to it
	TLS            bool
	CacheTTL       time.Duration // the service's --cache-ttl
	CORSOrigins    []string      // the service's --cors-origins; none = no CORS
	RootPrefix     string        // the service's --root-prefix; "" = the whole bucket
	// HTPasswdParameter is the SSM parameter holding the htpasswd file;
	// "" = no password.
	HTPasswdParameter string
}

// Sentinels stand for the bucket names while the script is escaped for
// Terraform, so that only the names stay unescaped.
const (
	artifactBucketSentinel = "\x00artifact-bucket\x00"
	servedBucketSentinel   = "\x00served-bucket\x00"
)

var (
	sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// safeKeyRE keeps the key usable unquoted in a URI and inside '...'.
	safeKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
)

// check rejects values that would break the script's quoting.
func (b bootScript) check() error {
	switch {
	case !regionRE.MatchString(b.Region):
		return fmt.Errorf("boot script: bad region %q", b.Region)
	case !safeKeyRE.MatchString(b.ArtifactKey):
		return fmt.Errorf("boot script: bad artifact key %q", b.ArtifactKey)
	case !sha256HexRE.MatchString(b.ArtifactSHA256):
		return fmt.Errorf("boot script: bad artifact SHA-256 %q", b.ArtifactSHA256)
	}
	for _, name := range []string{b.ArtifactBucket, b.ServedBucket} {
		if name == "" || strings.ContainsAny(name, "'\"\\\n\x00 ") {
			return fmt.Errorf("boot script: bad bucket name or reference %q", name)
		}
	}
	if b.HTPasswdParameter != "" && !ssmParameterNameRE.MatchString(b.HTPasswdParameter) {
		return fmt.Errorf("boot script: bad SSM parameter name %q", b.HTPasswdParameter)
	}
	if checkRootPrefix(Config{}, b.RootPrefix) != nil {
		return fmt.Errorf("boot script: bad root prefix %q", b.RootPrefix)
	}
	if b.CacheTTL < 0 {
		return fmt.Errorf("boot script: negative cache TTL %s", b.CacheTTL)
	}
	// Origins go into the unit unquoted: nothing but origins (or "*").
	for _, o := range b.CORSOrigins {
		if o != "*" && !validOrigin(o) {
			return fmt.Errorf("boot script: bad CORS origin %q", o)
		}
	}
	return nil
}

// userData returns the script as Terraform needs it in user_data: bash's own
// "${" and "%{" are escaped as "$${" and "%%{", and the bucket names (which
// may be references such as ${aws_s3_bucket.x.bucket}) are left as they are
// for Terraform to fill in.
func (b bootScript) userData() (string, error) {
	if err := b.check(); err != nil {
		return "", err
	}
	s := b.render(artifactBucketSentinel, servedBucketSentinel)
	s = escapeTemplate(s)
	s = strings.ReplaceAll(s, artifactBucketSentinel, b.ArtifactBucket)
	s = strings.ReplaceAll(s, servedBucketSentinel, b.ServedBucket)
	return s, nil
}

// bash returns the script as bash sees it once Terraform has rendered it,
// for bucket names that are literal names.
func (b bootScript) bash() (string, error) {
	if err := b.check(); err != nil {
		return "", err
	}
	return b.render(b.ArtifactBucket, b.ServedBucket), nil
}

// escapeTemplate escapes a literal string for a Terraform template.
func escapeTemplate(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// base64Expression returns a Terraform expression whose value is the
// template s, rendered (its references filled in), then base64-encoded:
// what a launch template's user_data takes. cdktf's Fn.base64encode
// refuses a string with double quotes in it, and Fn.rawString would
// escape the references too, so the expression is written out here.
func base64Expression(s string) string {
	return "${base64encode(" + hclString(s) + ")}"
}

// hclString quotes the template text s as an HCL quoted string: quotes,
// backslashes and control characters are escaped; template sequences
// (references, and the escapes $${ and %%{) stay as they are, since they
// mean the same in a quoted string.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// unit returns the systemd unit as installed, for the served bucket name
// servedBucket.
func (b bootScript) unit(servedBucket string) string {
	type env struct{ why, kv string }
	envs := []env{
		{"The bucket to list.", "BUCKETLS_BUCKET=" + servedBucket},
		{"The AWS SDK does not read the region from instance metadata.", "AWS_REGION=" + b.Region},
		{"Plain HTTP on port 80, for clients and the load balancer.", "BUCKETLS_ADDR=:80"},
	}
	if b.TLS {
		envs = append(envs,
			env{"HTTPS on port 443 beside HTTP (tls).", "BUCKETLS_TLS_ADDR=:443"},
			env{"A certificate made at start: no key material on disk or in user data.", "BUCKETLS_TLS_SELF_SIGNED=true"})
	}
	envs = append(envs, env{"Keep listing pages this long (cacheTtl): it bounds both S3 LIST calls and staleness.",
		"BUCKETLS_CACHE_TTL=" + b.CacheTTL.String()})
	if len(b.CORSOrigins) > 0 {
		envs = append(envs, env{"Web origins whose pages may read the listings (corsOrigins).",
			"BUCKETLS_CORS_ORIGINS=" + strings.Join(b.CORSOrigins, ",")})
	}
	if b.RootPrefix != "" {
		envs = append(envs, env{"Serve only this subtree of the bucket (rootPrefix); the role may list nothing else.",
			unitQuote("BUCKETLS_ROOT_PREFIX=" + b.RootPrefix)})
	}
	var e strings.Builder
	for _, v := range envs {
		e.WriteString("# " + v.why + "\nEnvironment=" + v.kv + "\n")
	}
	if b.HTPasswdParameter != "" {
		e.WriteString("# The htpasswd file the boot script fetched: systemd copies it for the service alone.\n" +
			"LoadCredential=" + htpasswdCredential + ":" + htpasswdPath + "\n" +
			"# Where the service reads it: %d is $CREDENTIALS_DIRECTORY.\n" +
			"Environment=BUCKETLS_HTPASSWD=%d/" + htpasswdCredential + "\n")
	}
	return strings.NewReplacer("{{ENV}}", e.String(), "{{INSTALL_PATH}}", installPath).Replace(unitTemplate)
}

// plainUnitValueRE matches assignments that systemd reads as they are.
var plainUnitValueRE = regexp.MustCompile(`^[A-Za-z0-9_]+=[A-Za-z0-9_.,:/@*+-]*$`)

// unitQuote returns the assignment kv, whose value may hold any character
// a root prefix may, as an Environment= value: as it is when it is plain,
// else in double quotes with backslashes and quotes
// escaped. "%" is doubled either way: systemd expands specifiers such as
// %d there.
func unitQuote(kv string) string {
	if plainUnitValueRE.MatchString(kv) {
		return kv
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%").Replace(kv) + `"`
}

// unitTemplate is the hardened unit. Every directive has its one-line
// reason above it, so the unit explains itself on the instance too; the
// network stays open because the service needs IMDS (169.254.169.254) for
// its credentials and S3 (through the VPC's gateway endpoint on AWS).
const unitTemplate = `[Unit]
# What systemctl status and the journal call it.
Description=bucketls: lists an S3 bucket as JSON over HTTP
# Where an operator reading this unit finds more.
Documentation=https://github.com/bucketls/bucketls
# Make the boot wait for a configured network: the service calls IMDS and S3 at once.
Wants=network-online.target
# Start after it. Network only: ordering after cloud-final would deadlock
# the start that cloud-final itself runs from the user data.
After=network-online.target

[Service]
# Started once the binary runs, so a missing or broken binary fails the start.
Type=exec
# The binary the boot script installed after checking its SHA-256.
ExecStart={{INSTALL_PATH}}
{{ENV}}# Come back after a crash or a failed start, not after a clean stop.
Restart=on-failure
# Wait between restarts, so a service that cannot start does not spin.
RestartSec=5
# SIGTERM starts a graceful shutdown; give in-flight requests time to finish.
TimeoutStopSec=30

# An ephemeral unprivileged user that owns nothing on disk.
DynamicUser=yes
# Ports 80 and 443 are privileged: grant exactly the right to bind them...
AmbientCapabilities=CAP_NET_BIND_SERVICE
# ...and let the process never hold any other capability.
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
# No setuid binary or file capability can raise the service's privileges.
NoNewPrivileges=yes
# The service writes no files: the whole file system is read-only to it.
ProtectSystem=strict
# Home directories hold nothing it needs: invisible.
ProtectHome=yes
# A private /tmp: nothing it could leave there is seen by others, or vice versa.
PrivateTmp=yes
# No device nodes but the pseudo devices (null, zero, random).
PrivateDevices=yes
# Its own System V IPC and POSIX message queues, shared with nothing.
PrivateIPC=yes
# Its own mount namespace: mounts it could make stay invisible to the host.
PrivateMounts=yes
# Anything it ever creates is readable by itself only.
UMask=0077
# /proc/sys and /sys stay read-only: no kernel tunable can be changed.
ProtectKernelTunables=yes
# No kernel module can be loaded or unloaded.
ProtectKernelModules=yes
# The kernel log ring buffer is out of reach (it leaks addresses).
ProtectKernelLogs=yes
# The cgroup tree is read-only: no escaping resource limits.
ProtectControlGroups=yes
# The system clock cannot be changed (TLS and S3 signatures depend on it).
ProtectClock=yes
# The host name cannot be changed.
ProtectHostname=yes
# Other users' processes are invisible in /proc.
ProtectProc=invisible
# /proc shows processes only, no kernel or system information.
ProcSubset=pid
# No new namespaces: container-style tricks to regain privileges fail.
RestrictNamespaces=yes
# No realtime scheduling: a runaway loop cannot starve the machine.
RestrictRealtime=yes
# No setuid or setgid files can be created.
RestrictSUIDSGID=yes
# The execution domain is fixed: no personality() switch to an old ABI.
LockPersonality=yes
# No memory that is both writable and executable: no injected code runs (Go needs none).
MemoryDenyWriteExecute=yes
# Its IPC objects go away when it stops.
RemoveIPC=yes
# Native system calls only: no 32-bit entry points to slip past the filter.
SystemCallArchitectures=native
# The system calls of an ordinary service...
SystemCallFilter=@system-service
# ...minus the privileged ones (mount, reboot, module loading, raw I/O).
SystemCallFilter=~@privileged
# A filtered call fails with EPERM instead of killing the process, so it is logged, not a crash loop.
SystemCallErrorNumber=EPERM
# IPv4/IPv6 for HTTP, S3 and IMDS; Unix sockets for logging. Deliberately
# absent: PrivateNetwork and IPAddressDeny (they cut off IMDS and S3), and
# PrivateUsers (next to DynamicUser it makes binding port 80 fail).
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX

[Install]
# Started at every boot, not only by the boot script.
WantedBy=multi-user.target
`

// render returns the script with the given bucket names, unescaped.
func (b bootScript) render(artifactBucket, servedBucket string) string {
	uri := "s3://" + artifactBucket + "/" + b.ArtifactKey
	return strings.NewReplacer(
		"{{LOG_PREFIX}}", logPrefix,
		"{{REGION}}", b.Region,
		"{{ARTIFACT_URI}}", uri,
		"{{SHA256}}", b.ArtifactSHA256,
		"{{ATTEMPTS}}", fmt.Sprint(downloadAttempts),
		"{{INSTALL_PATH}}", installPath,
		"{{UNIT_NAME}}", unitName,
		"{{UNIT_PATH}}", unitPath,
		"{{UNIT}}", b.unit(servedBucket),
		"{{WAIT}}", fmt.Sprint(healthWaitSeconds),
		"{{HTPASSWD}}", b.htpasswdStep(),
		"{{AUTH_CHECK}}", b.authCheck(),
	).Replace(scriptTemplate)
}

// htpasswdStep returns the boot script's step that installs fetchPath and
// runs it, or "" without a password. The helper is a file of its own so
// that after a change of the parameter an operator runs the same fetch
// (see the README: aws ssm send-command, then a restart).
func (b bootScript) htpasswdStep() string {
	if b.HTPasswdParameter == "" {
		return ""
	}
	return strings.NewReplacer(
		"{{PARAM}}", b.HTPasswdParameter,
		"{{REGION}}", b.Region,
		"{{FETCH_PATH}}", fetchPath,
		"{{DIR}}", htpasswdDir,
		"{{FILE}}", htpasswdPath,
	).Replace(htpasswdTemplate)
}

// authCheck returns the boot script's last step with a password: the
// listing must answer 401 without credentials. A service that does not
// enforce the password (say, a build that predates it and ignores
// BUCKETLS_HTPASSWD) would otherwise serve the listing to everyone while
// the deploy looks protected; the boot fails closed instead, and the unit
// is disabled so a reboot does not bring it back.
func (b bootScript) authCheck() string {
	if b.HTPasswdParameter == "" {
		return ""
	}
	return strings.NewReplacer("{{UNIT_NAME}}", unitName).Replace(authCheckTemplate)
}

const authCheckTemplate = `status=$(curl --silent --max-time 5 --output /dev/null --write-out '%{http_code}' http://127.0.0.1/list-bucket-content || true)
if [ "$status" != 401 ]; then
	log "the listing answered $status without credentials, not 401: the password is not enforced; stopping {{UNIT_NAME}}"
	systemctl disable --now {{UNIT_NAME}} || true
	exit 1
fi
log "the listing asks for a password (401 without credentials)"
`

// htpasswdTemplate installs and runs the fetch of the htpasswd file. The
// file never lies world-readable on disk: the helper writes it under umask
// 077 into a directory only root may enter, and mv replaces it whole.
const htpasswdTemplate = `log "installing {{FETCH_PATH}}"
cat >{{FETCH_PATH}} <<'FETCH'
#!/bin/bash
# Fetches the htpasswd file of bucketls from the SSM SecureString
# {{PARAM}} into {{FILE}}, readable by root only; systemd hands it
# to bucketls.service (LoadCredential). The boot script runs it once; after
# changing the parameter, run it again and restart bucketls.service.
set -euo pipefail
umask 077
mkdir -p {{DIR}}
/usr/bin/aws ssm get-parameter --region {{REGION}} --name {{PARAM}} --with-decryption --query Parameter.Value --output text >{{FILE}}.new
mv -f {{FILE}}.new {{FILE}}
FETCH
chmod 0700 {{FETCH_PATH}}
log "fetching the htpasswd file from SSM parameter {{PARAM}}"
retry "htpasswd fetch" {{FETCH_PATH}}

`

// scriptTemplate is the boot script. cloud-init runs it once, as root,
// without HOME (so it never uses $HOME). It fails closed: any error exits
// non-zero, which cloud-init reports as a failed boot script, and a checksum
// mismatch exits before anything is installed.
const scriptTemplate = `#!/bin/bash
# bucketls boot script, generated by the CDKTF stack (stack/userdata.go).
# Installs the bucketls binary from S3 after checking its SHA-256, starts it
# as a hardened systemd service and waits until it answers. No credentials
# here: the AWS CLI and the service use the instance role.
set -euo pipefail
umask 022
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "{{LOG_PREFIX}} $*"; }
trap 'log "failed at line $LINENO (exit status $?)"' ERR

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# retry WHAT COMMAND...: runs COMMAND up to {{ATTEMPTS}} times, and exits the
# script when it never succeeds. A fresh instance role can take seconds to
# become usable.
retry() {
	local what=$1 attempt=1
	shift
	until "$@"; do
		if [ "$attempt" -ge {{ATTEMPTS}} ]; then
			log "$what failed $attempt times; giving up"
			exit 1
		fi
		log "$what attempt $attempt failed; retrying in $((attempt * 3)) s"
		sleep "$((attempt * 3))"
		attempt=$((attempt + 1))
	done
}

log "downloading {{ARTIFACT_URI}}"
# --no-progress: one line in the console log instead of a progress meter.
retry download /usr/bin/aws s3 cp --no-progress --region {{REGION}} {{ARTIFACT_URI}} "$work/bucketls"

log "verifying sha256 {{SHA256}}"
if ! echo "{{SHA256}}  $work/bucketls" | sha256sum -c --strict; then
	log "checksum mismatch: refusing to install"
	exit 1
fi

log "installing {{INSTALL_PATH}}"
install -o root -g root -m 0755 "$work/bucketls" {{INSTALL_PATH}}

{{HTPASSWD}}log "writing {{UNIT_PATH}}"
cat >{{UNIT_PATH}} <<'UNIT'
{{UNIT}}UNIT

log "starting {{UNIT_NAME}}"
systemctl daemon-reload
# --no-block: this script runs inside cloud-final; waiting for the start job
# here could deadlock boot. The health check below does the waiting.
systemctl enable --now --no-block {{UNIT_NAME}}

log "waiting up to {{WAIT}} s for http://127.0.0.1/healthz"
deadline=$((SECONDS + {{WAIT}}))
until curl --silent --fail --max-time 2 --output /dev/null http://127.0.0.1/healthz; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		log "no answer from /healthz after {{WAIT}} s"
		systemctl --no-pager --full status {{UNIT_NAME}} || true
		journalctl --no-pager --unit {{UNIT_NAME}} --lines 50 || true
		exit 1
	fi
	sleep 1
done

pid=$(systemctl show --property MainPID --value {{UNIT_NAME}})
owner=$(ps -o user=,uid= -p "$pid")
read -r user uid <<<"$owner"
log "healthy: {{UNIT_NAME}} runs as user=$user uid=$uid pid=$pid"
if [ "$uid" = 0 ]; then
	log "the service runs as root; refusing"
	exit 1
fi
{{AUTH_CHECK}}log "done"
`

package bootscript

// scriptValues fill scriptTemplate.
type scriptValues struct {
	LogPrefix   string
	Region      string
	ArtifactURI string
	SHA256      string
	Attempts    int
	InstallPath string
	UnitName    string
	UnitPath    string
	Unit        string // the unit, as unitTemplate renders it
	Wait        int    // seconds
	HealthURL   string
	HealthPath  string
	HTPasswd    string // htpasswdStep: "" without a password
	AuthCheck   string // authCheck: "" without a password
}

// render returns the script with the given bucket names, unescaped.
func (s Script) render(artifactBucket, servedBucket string) string {
	return scriptTemplate.render(s.scriptValues(artifactBucket, servedBucket))
}

// scriptValues returns the values of the script with the given bucket names.
func (s Script) scriptValues(artifactBucket, servedBucket string) scriptValues {
	return scriptValues{
		LogPrefix:   logPrefix,
		Region:      s.Region,
		ArtifactURI: "s3://" + artifactBucket + "/" + s.ArtifactKey,
		SHA256:      s.ArtifactSHA256,
		Attempts:    downloadAttempts,
		InstallPath: installPath,
		UnitName:    unitName,
		UnitPath:    unitPath,
		Unit:        s.unit(servedBucket),
		Wait:        healthWaitSeconds,
		HealthURL:   localURL + HealthPath,
		HealthPath:  HealthPath,
		HTPasswd:    s.htpasswdStep(),
		AuthCheck:   s.authCheck(),
	}
}

// htpasswdValues fill htpasswdTemplate.
type htpasswdValues struct {
	Param, Region, FetchPath, Dir, File string
}

// htpasswdStep returns the boot script's step that installs fetchPath and
// runs it, or "" without a password. The helper is a file of its own so
// that after a change of the parameter an operator runs the same fetch
// (see the README: aws ssm send-command, then a restart).
func (s Script) htpasswdStep() string {
	if s.HTPasswdParameter == "" {
		return ""
	}
	return htpasswdTemplate.render(htpasswdValues{
		Param:     s.HTPasswdParameter,
		Region:    s.Region,
		FetchPath: fetchPath,
		Dir:       htpasswdDir,
		File:      htpasswdPath,
	})
}

// statusCheckValues fill statusCheckTemplate: curl URL without
// credentials must answer Want, or the boot fails for the reason Why.
type statusCheckValues struct {
	Curl, URL, Want, Why, UnitName string
}

// authCheck returns the boot script's last step with a password: the
// listing must answer 401 without credentials. A service that does not
// enforce the password (say, a build that predates it and ignores
// BUCKETLS_HTPASSWD) would otherwise serve the listing to everyone while
// the deploy looks protected; the boot fails closed instead, and the unit
// is disabled so a reboot does not bring it back. With tls the 401 comes
// over HTTPS, and plain HTTP must send the client there (308) instead:
// the service does so when it has both a password and TLS, so a browser
// never sends the password in clear.
func (s Script) authCheck() string {
	if s.HTPasswdParameter == "" {
		return ""
	}
	curl := "curl --silent --max-time 5 --output /dev/null --write-out '%{http_code}'"
	if !s.TLS {
		return statusCheckTemplate.render(statusCheckValues{Curl: curl, URL: localURL + ListPath, Want: "401",
			Why: "without credentials, not 401: the password is not enforced", UnitName: unitName}) +
			"log \"the listing asks for a password (401 without credentials)\"\n"
	}
	return statusCheckTemplate.render(statusCheckValues{Curl: curl, URL: localURL + ListPath, Want: "308",
		Why: "over plain HTTP, not 308 to HTTPS: a browser would send the password in clear", UnitName: unitName}) +
		statusCheckTemplate.render(statusCheckValues{
			// --insecure: the certificate is the self-signed one the
			// service made at start; this checks the password, not it.
			Curl: curl + " --insecure", URL: localHTTPSURL + ListPath, Want: "401",
			Why: "over HTTPS without credentials, not 401: the password is not enforced", UnitName: unitName}) +
		"log \"the listing asks for a password over HTTPS (401 without credentials) and sends plain HTTP there (308)\"\n"
}

var statusCheckTemplate = newTemplate[statusCheckValues]("status check", `status=$({{.Curl}} {{.URL}} || true)
if [ "$status" != {{.Want}} ]; then
	log "the listing answered $status {{.Why}}; stopping {{.UnitName}}"
	systemctl disable --now {{.UnitName}} || true
	exit 1
fi
`)

// htpasswdTemplate installs and runs the fetch of the htpasswd file. The
// file never lies world-readable on disk: the helper writes it under umask
// 077 into a directory only root may enter, and mv replaces it whole.
var htpasswdTemplate = newTemplate[htpasswdValues]("htpasswd fetch", `log "installing {{.FetchPath}}"
cat >{{.FetchPath}} <<'FETCH'
#!/bin/bash
# Fetches the htpasswd file of bucketls from the SSM SecureString
# {{.Param}} into {{.File}}, readable by root only; systemd hands it
# to bucketls.service (LoadCredential). The boot script runs it once; after
# changing the parameter, run it again and restart bucketls.service.
set -euo pipefail
umask 077
mkdir -p {{.Dir}}
/usr/bin/aws ssm get-parameter --region {{.Region}} --name {{.Param}} --with-decryption --query Parameter.Value --output text >{{.File}}.new
mv -f {{.File}}.new {{.File}}
FETCH
chmod 0700 {{.FetchPath}}
log "fetching the htpasswd file from SSM parameter {{.Param}}"
retry "htpasswd fetch" {{.FetchPath}}

`)

// scriptTemplate is the boot script. cloud-init runs it once, as root,
// without HOME (so it never uses $HOME). It fails closed: any error exits
// non-zero, which cloud-init reports as a failed boot script, and a checksum
// mismatch exits before anything is installed. (Its header names the
// stack's file that makes it, stack/userdata.go: changing the header would
// change every deployed instance's user data, and so replace it.)
var scriptTemplate = newTemplate[scriptValues]("boot script", `#!/bin/bash
# bucketls boot script, generated by the CDKTF stack (stack/userdata.go).
# Installs the bucketls binary from S3 after checking its SHA-256, starts it
# as a hardened systemd service and waits until it answers. No credentials
# here: the AWS CLI and the service use the instance role.
set -euo pipefail
umask 022
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "{{.LogPrefix}} $*"; }
trap 'log "failed at line $LINENO (exit status $?)"' ERR

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# retry WHAT COMMAND...: runs COMMAND up to {{.Attempts}} times, and exits the
# script when it never succeeds. A fresh instance role can take seconds to
# become usable.
retry() {
	local what=$1 attempt=1
	shift
	until "$@"; do
		if [ "$attempt" -ge {{.Attempts}} ]; then
			log "$what failed $attempt times; giving up"
			exit 1
		fi
		log "$what attempt $attempt failed; retrying in $((attempt * 3)) s"
		sleep "$((attempt * 3))"
		attempt=$((attempt + 1))
	done
}

log "downloading {{.ArtifactURI}}"
# --no-progress: one line in the console log instead of a progress meter.
retry download /usr/bin/aws s3 cp --no-progress --region {{.Region}} {{.ArtifactURI}} "$work/bucketls"

log "verifying sha256 {{.SHA256}}"
if ! echo "{{.SHA256}}  $work/bucketls" | sha256sum -c --strict; then
	log "checksum mismatch: refusing to install"
	exit 1
fi

log "installing {{.InstallPath}}"
install -o root -g root -m 0755 "$work/bucketls" {{.InstallPath}}

{{.HTPasswd}}log "writing {{.UnitPath}}"
cat >{{.UnitPath}} <<'UNIT'
{{.Unit}}UNIT

log "starting {{.UnitName}}"
systemctl daemon-reload
# --no-block: this script runs inside cloud-final; waiting for the start job
# here could deadlock boot. The health check below does the waiting.
systemctl enable --now --no-block {{.UnitName}}

log "waiting up to {{.Wait}} s for {{.HealthURL}}"
deadline=$((SECONDS + {{.Wait}}))
until curl --silent --fail --max-time 2 --output /dev/null {{.HealthURL}}; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		log "no answer from {{.HealthPath}} after {{.Wait}} s"
		systemctl --no-pager --full status {{.UnitName}} || true
		journalctl --no-pager --unit {{.UnitName}} --lines 50 || true
		exit 1
	fi
	sleep 1
done

pid=$(systemctl show --property MainPID --value {{.UnitName}})
owner=$(ps -o user=,uid= -p "$pid")
read -r user uid <<<"$owner"
log "healthy: {{.UnitName}} runs as user=$user uid=$uid pid=$pid"
if [ "$uid" = 0 ]; then
	log "the service runs as root; refusing"
	exit 1
fi
{{.AuthCheck}}log "done"
`)

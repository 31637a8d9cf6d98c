package bootscript

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// unitValues fill unitTemplate.
type unitValues struct {
	InstallPath string
	Env         string // the Environment= lines, each with its reason
	HTTPPort    int
	HTTPSPort   int
}

// unit returns the systemd unit as installed, for the served bucket name
// servedBucket.
func (s Script) unit(servedBucket string) string {
	return unitTemplate.render(s.unitValues(servedBucket))
}

// unitValues returns the values of the unit for the served bucket name
// servedBucket.
func (s Script) unitValues(servedBucket string) unitValues {
	type env struct{ why, kv string }
	envs := []env{
		{"The bucket to list.", "BUCKETLS_BUCKET=" + servedBucket},
		{"The AWS SDK does not read the region from instance metadata.", "AWS_REGION=" + s.Region},
		{fmt.Sprintf("Plain HTTP on port %d, for clients and the load balancer.", HTTPPort), fmt.Sprintf("BUCKETLS_ADDR=:%d", HTTPPort)},
	}
	if s.TLS {
		envs = append(envs,
			env{fmt.Sprintf("HTTPS on port %d beside HTTP (tls).", HTTPSPort), fmt.Sprintf("BUCKETLS_TLS_ADDR=:%d", HTTPSPort)},
			env{"A certificate made at start: no key material on disk or in user data.", "BUCKETLS_TLS_SELF_SIGNED=true"})
	}
	envs = append(envs, env{"Keep listing pages this long (cacheTtl): it bounds both S3 LIST calls and staleness.",
		"BUCKETLS_CACHE_TTL=" + s.CacheTTL.String()})
	// Each setting below is written only when set, so a unit without it
	// stays byte for byte what it was before the setting existed.
	if s.CacheStale > 0 {
		envs = append(envs, env{"Answer a listing up to this long past cacheTtl while it is refreshed or S3 fails (cacheStale).",
			"BUCKETLS_CACHE_STALE=" + s.CacheStale.String()})
	}
	if len(s.CORSOrigins) > 0 {
		envs = append(envs, env{"Web origins whose pages may read the listings (corsOrigins).",
			"BUCKETLS_CORS_ORIGINS=" + strings.Join(s.CORSOrigins, ",")})
	}
	if s.RootPrefix != "" {
		envs = append(envs, env{"Serve only this subtree of the bucket (rootPrefix); the role may list nothing else.",
			unitQuote("BUCKETLS_ROOT_PREFIX=" + s.RootPrefix)})
	}
	if len(s.Hide) > 0 {
		envs = append(envs, env{"Names the listings leave out (hide): presentation, not access control.",
			unitQuote("BUCKETLS_HIDE=" + strings.Join(s.Hide, ","))})
	}
	if s.ServeObjects {
		envs = append(envs, env{"Serve the objects' bytes at /files (serveObjects); the role may read the served keys.",
			"BUCKETLS_SERVE_OBJECTS=true"})
	}
	if s.ViewCap > 0 {
		envs = append(envs, env{"The most entries sort= and match= read from one directory (viewCap).",
			"BUCKETLS_VIEW_CAP=" + strconv.Itoa(s.ViewCap)})
	}
	var e strings.Builder
	for _, v := range envs {
		e.WriteString("# " + v.why + "\nEnvironment=" + v.kv + "\n")
	}
	if s.HTPasswdParameter != "" {
		e.WriteString("# The htpasswd file the boot script fetched: systemd copies it for the service alone.\n" +
			"LoadCredential=" + htpasswdCredential + ":" + htpasswdPath + "\n" +
			"# Where the service reads it: %d is $CREDENTIALS_DIRECTORY.\n" +
			"Environment=BUCKETLS_HTPASSWD=%d/" + htpasswdCredential + "\n")
	}
	return unitValues{InstallPath: installPath, Env: e.String(), HTTPPort: HTTPPort, HTTPSPort: HTTPSPort}
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
var unitTemplate = newTemplate[unitValues]("unit", `[Unit]
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
ExecStart={{.InstallPath}}
{{.Env}}# Come back after a crash or a failed start, not after a clean stop.
Restart=on-failure
# Wait between restarts, so a service that cannot start does not spin.
RestartSec=5
# SIGTERM starts a graceful shutdown; give in-flight requests time to finish.
TimeoutStopSec=30

# An ephemeral unprivileged user that owns nothing on disk.
DynamicUser=yes
# Ports {{.HTTPPort}} and {{.HTTPSPort}} are privileged: grant exactly the right to bind them...
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
# PrivateUsers (next to DynamicUser it makes binding port {{.HTTPPort}} fail).
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX

[Install]
# Started at every boot, not only by the boot script.
WantedBy=multi-user.target
`)

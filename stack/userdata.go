package stack

import (
	"fmt"
	"strings"

	"github.com/bucketls/bucketls/internal/corsorigin"
	"github.com/bucketls/bucketls/stack/internal/bootscript"
)

// userData returns the instances' user data for cfg: the boot script
// (package bootscript) that installs the artifact art and serves the
// bucket served, with Terraform references for the bucket names that are
// generated at apply time. Both modes use it; mode "ha" leaves the
// instance's own TLS off, since the load balancer terminates it.
func userData(cfg Config, art artifact, served servedBucket) (string, error) {
	// The origins as the service itself would write them (Validate has
	// checked them with the same rule): lowercase, no trailing slash or
	// default port, each once.
	origins, err := corsorigin.Parse(cfg.CORSOrigins)
	if err != nil {
		return "", fmt.Errorf("corsOrigins: %w", err)
	}
	return bootscript.Script{
		Region:            cfg.Region,
		ArtifactBucket:    art.bucketName,
		ArtifactKey:       art.key,
		ArtifactSHA256:    art.sha256,
		ServedBucket:      served.name,
		TLS:               cfg.instanceTLS(),
		CacheTTL:          cfg.CacheTTL,
		CacheStale:        cfg.CacheStale,
		CORSOrigins:       origins,
		RootPrefix:        cfg.RootPrefix,
		Hide:              cfg.Hide,
		ServeObjects:      cfg.ServeObjects,
		ViewCap:           cfg.ViewCap,
		HTPasswdParameter: cfg.HTPasswdParameter,
	}.UserData()
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

package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bucketls/bucketls/internal/corsorigin"
	"github.com/bucketls/bucketls/internal/hidden"
	"github.com/bucketls/bucketls/internal/s3name"
	"github.com/bucketls/bucketls/internal/viewcap"
)

// The checks of the settings (see settings): each returns what is wrong
// with one setting's value, given the whole Config for the settings that
// depend on others, and nil when the value can be deployed.

var (
	// regionRE matches region names such as us-east-1, us-gov-west-1, ap-southeast-5.
	regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+){1,2}-[0-9]{1,2}$`)
	// instanceTypeRE matches instance types such as t3.micro, m7g.large, c6gn.16xlarge.
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	// gravitonRE matches the families that run arm64: a generation digit
	// followed by "g" (t4g, m7g, c6gn, im4gn, g5g) or the first Graviton, a1.
	gravitonRE = regexp.MustCompile(`^([a-z]+[0-9]+g[a-z0-9-]*|a1)\.`)
	// acmARNRE matches an ACM certificate ARN and captures its partition,
	// region and account.
	acmARNRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):acm:([a-z0-9-]+):([0-9]{12}):certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// maxAllowedCIDRs keeps the rules well under the default quota of 60 inbound
// rules per security group (each CIDR is one rule per port).
const maxAllowedCIDRs = 50

// maxGroupSize bounds maxSize. A rolling deploy runs up to twice the
// group (maxHealthyPercentage), and twice this still fits the two /24
// subnets with room for the load balancer's nodes; it also stops a typo
// such as 400 from becoming a bill.
const maxGroupSize = 100

func checkRegion(_ Config, v string) []problem {
	if !regionRE.MatchString(v) {
		return bad("not an AWS region name", `use a region such as "us-east-1" or "eu-west-1"`)
	}
	return nil
}

func validArch(arch string) bool { return arch == "amd64" || arch == "arm64" }

func checkArch(_ Config, v string) []problem {
	if !validArch(v) {
		return bad("unsupported architecture", `use "amd64" (x86_64) or "arm64" (Graviton)`)
	}
	return nil
}

func checkInstanceType(c Config, v string) []problem {
	switch {
	case v == "":
		return nil
	case !instanceTypeRE.MatchString(v):
		return bad("not an EC2 instance type", `use a type such as "t3.micro", or leave it empty for the default of the arch`)
	case validArch(c.Arch) && instanceTypeArch(v) != c.Arch:
		return bad(fmt.Sprintf("an %s type, but arch is %q", instanceTypeArch(v), c.Arch),
			fmt.Sprintf("pick an %s type such as %q, or set arch to %q", c.Arch, defaultInstanceType(c.Arch), instanceTypeArch(v)))
	}
	return nil
}

// instanceTypeArch returns the architecture an instance type runs.
func instanceTypeArch(instanceType string) string {
	if gravitonRE.MatchString(instanceType) {
		return "arm64"
	}
	return "amd64"
}

func checkBucketName(_ Config, v string) []problem {
	if v != "" && !s3name.ValidBucket(v) {
		return bad("not an S3 bucket name (3 to 255 letters, digits, '.', '-' or '_', starting and ending with a letter or digit)",
			"give the name of an existing bucket (not an ARN or s3:// URI), or leave it empty to create and seed one")
	}
	return nil
}

// checkCIDRs checks allowedCidrs: canonical IPv4 prefixes, no duplicates,
// at least one and at most maxAllowedCIDRs.
func checkCIDRs(_ Config, cidrs []string) []problem {
	switch {
	case len(cidrs) == 0:
		return bad("empty: nobody could reach the service", `list the networks to admit, or ["0.0.0.0/0"] for everyone`)
	case len(cidrs) > maxAllowedCIDRs:
		return bad(fmt.Sprintf("%d entries, more than %d", len(cidrs), maxAllowedCIDRs), "merge them into fewer, larger prefixes")
	}
	var ps []problem
	seen := map[netip.Prefix]bool{}
	for _, s := range cidrs {
		one := func(what, fix string) { ps = append(ps, problem{strconv.Quote(s), what, fix}) }
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			one("not a CIDR", `write an IPv4 network such as "203.0.113.0/24" or "198.51.100.7/32"`)
		case !p.Addr().Is4():
			one("an IPv6 network, but the VPC is IPv4 only", "list IPv4 networks only")
		case p.Masked() != p:
			one("host bits set", fmt.Sprintf("write %q", p.Masked().String()))
		case seen[p]:
			one("listed twice (AWS rejects duplicate rules)", "remove the duplicate")
		}
		seen[p] = true
	}
	return ps
}

func checkCacheTTL(_ Config, v time.Duration) []problem {
	if v < 0 {
		return bad("negative", `use a duration such as "2s", or "0s" to turn the cache off`)
	}
	return nil
}

// checkCacheStale accepts what the service's --cache-stale takes, a
// duration of 0 or more, and refuses a window with the cache off: the
// service would start and ignore it (with no cache there is no page to
// answer stale, and with max-age 0 its listings say no-cache, which
// leaves clients and CloudFront nothing to go stale from), so the deploy
// would not do what was asked.
func checkCacheStale(c Config, v time.Duration) []problem {
	switch {
	case v < 0:
		return bad("negative", `use a duration such as "30s", or "0s" to answer nothing stale`)
	case v > 0 && c.CacheTTL == 0:
		return bad(fmt.Sprintf("has no effect while cacheTtl is %q: without a cache nothing is answered stale", c.CacheTTL),
			`set cacheTtl above 0, such as "2s", or cacheStale to "0s"`)
	}
	return nil
}

// checkViewCap accepts 0 (the service's default) and the caps the
// service's --view-cap takes (package viewcap states them for both).
func checkViewCap(_ Config, v int) []problem {
	if v != 0 && viewcap.Check(v) != nil {
		return bad(fmt.Sprintf("outside 1 to %d, the caps the service takes", viewcap.Max),
			fmt.Sprintf("set the most entries sort= and match= read from one directory, or 0 for the service's default (%d)", viewcap.Default))
	}
	return nil
}

// maxCORSOrigins keeps the unit's environment line short; a site with
// more origins than this wants "*" or a proxy.
const maxCORSOrigins = 20

// checkCORSOrigins applies the rule of the service's --cors-origins
// (package corsorigin states it once for both, with the examples both
// sides' tests run), so a list tried locally deploys as it is; the unit
// carries the origins as the rule writes them (see userData).
func checkCORSOrigins(_ Config, origins []string) []problem {
	if len(origins) > maxCORSOrigins {
		return bad(fmt.Sprintf("%d origins, more than %d", len(origins), maxCORSOrigins), `list fewer, use a wildcard such as "https://*.example.com", or ["*"] for any origin`)
	}
	_, err := corsorigin.Parse(origins)
	var errs corsorigin.Errors
	errors.As(err, &errs)
	var ps []problem
	for _, e := range errs {
		ps = append(ps, problem{strconv.Quote(e.Origin), e.Problem, e.Fix})
	}
	return ps
}

// checkHide accepts the patterns the service's --hide takes (package
// hidden states the rules for both), each once.
func checkHide(_ Config, patterns []string) []problem {
	const fix = `write glob patterns of names such as ".*" or "*.bak", or paths from the root such as "private/*"`
	if len(patterns) > hidden.MaxPatterns {
		return bad(fmt.Sprintf("%d patterns, more than %d", len(patterns), hidden.MaxPatterns), "list fewer; one pattern can match many names")
	}
	var ps []problem
	seen := map[string]bool{}
	for _, p := range patterns {
		switch err := hidden.Check(p); {
		case err != nil:
			ps = append(ps, problem{strconv.Quote(p), err.Error(), fix})
		case strings.Contains(p, "$") || strings.Contains(p, "%{"):
			ps = append(ps, problem{strconv.Quote(p), `has "$" or "%{", which Terraform reads as the start of a template`, `match the character with ? instead`})
		case seen[p]:
			ps = append(ps, problem{strconv.Quote(p), "is listed twice", "list it once"})
		}
		seen[p] = true
	}
	return ps
}

// checkRootPrefix applies the rules the service applies to --root-prefix
// (package s3name states them once for both: no slash at either end, no
// empty or dot segments, no control characters, valid UTF-8, bounded), and
// refuses what the stack itself cannot carry: "*" and "?" would be
// wildcards in the IAM condition that limits listing to the prefix,
// widening it; "$" starts IAM policy variables and, like "%{", Terraform
// templates in every string of cdk.tf.json.
func checkRootPrefix(_ Config, p string) []problem {
	const fix = `write the key prefix without a slash at either end, such as "reports" or "team/2024", or leave it empty for the whole bucket`
	if err := s3name.CheckRootPrefix(p); err != nil {
		return bad(err.Error(), fix)
	}
	switch {
	case strings.ContainsAny(p, "*?"):
		return bad(`has "*" or "?", which the IAM condition limiting the role to the prefix would read as wildcards`, fix)
	case strings.Contains(p, "$") || strings.Contains(p, "%{"):
		return bad(`has "$" or "%{", which IAM and Terraform read as the start of a variable or template`, fix)
	}
	return nil
}

// ssmParameterNameRE is a Parameter Store name, with or without the
// leading slash of a hierarchy: letters, digits and _.-/ only.
var ssmParameterNameRE = regexp.MustCompile(`^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)

// checkHTPasswdParameter checks the parameter's name, and that passwords
// never cross the network in clear unless the operator says they may.
func checkHTPasswdParameter(c Config, name string) []problem {
	lower := strings.ToLower(strings.TrimPrefix(name, "/"))
	switch {
	case name == "":
		return nil
	case strings.HasPrefix(name, "arn:"):
		return bad("an ARN, not a parameter name", `give the name, such as "/bucketls/htpasswd"; the stack builds the ARN in region and the deploying account`)
	case len(name) > 1011 || !ssmParameterNameRE.MatchString(name) || strings.Count(name, "/") > 15:
		return bad("not an SSM parameter name (letters, digits and _.-/, at most 15 levels)", `give the name of a SecureString parameter, such as "/bucketls/htpasswd"`)
	case strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm"):
		return bad(`starts with "aws" or "ssm", which Parameter Store reserves`, `choose a name such as "/bucketls/htpasswd"`)
	case !c.clientTLS() && !c.AllowPasswordsInClear:
		return bad("passwords would cross the network in clear: clients reach the service over plain HTTP",
			`serve HTTPS (cdn; tls in mode "single"; certificateArn or domainName in mode "ha"), or set allowPasswordsInClear to true if the network is private`)
	}
	return nil
}

// checkSSMEndpoints refuses endpoints nothing uses: they serve Session
// Manager (ssm) and Parameter Store (htpasswdParameter).
func checkSSMEndpoints(c Config, v bool) []problem {
	if v && !c.SSM && c.HTPasswdParameter == "" {
		return bad("endpoints for Session Manager and Parameter Store, but ssm is off and there is no htpasswdParameter", "set ssm to true, or ssmEndpoints to false")
	}
	return nil
}

func checkMode(_ Config, v string) []problem {
	switch v {
	case "", ModeSingle, ModeHA:
		return nil
	}
	return bad("unknown mode", `use "single" (one instance) or "ha" (load balancer and Auto Scaling group across two zones)`)
}

// The checks of the "ha" settings run in mode "ha" only (see field.haOnly).

func checkMinSize(_ Config, v int) []problem {
	if v < 1 {
		return bad("below 1: the load balancer would have nothing to send requests to", "set it to 1 or more; 2 keeps one instance in each zone")
	}
	return nil
}

func checkMaxSize(c Config, v int) []problem {
	switch {
	case v > maxGroupSize:
		return bad(fmt.Sprintf("above %d", maxGroupSize), fmt.Sprintf("set it to %d or less", maxGroupSize))
	case c.MinSize >= 1 && v < c.MinSize:
		return bad(fmt.Sprintf("below minSize %d", c.MinSize), fmt.Sprintf("set maxSize to %d or more, or lower minSize", c.MinSize))
	}
	return nil
}

// checkDesiredCapacity checks the start size against minSize and maxSize,
// once those are valid themselves (their own errors come first).
func checkDesiredCapacity(c Config, v int) []problem {
	if checkMinSize(c, c.MinSize) != nil || checkMaxSize(c, c.MaxSize) != nil {
		return nil
	}
	if v < c.MinSize || v > c.MaxSize {
		return bad(fmt.Sprintf("outside minSize %d to maxSize %d", c.MinSize, c.MaxSize), fmt.Sprintf("set it between %d and %d", c.MinSize, c.MaxSize))
	}
	return nil
}

func checkTargetCPU(_ Config, v int) []problem {
	if v < 1 || v > 100 {
		return bad("not a CPU percentage from 1 to 100", "set the average CPU utilization to keep the group at, such as 50")
	}
	return nil
}

func checkCertificateARN(c Config, v string) []problem {
	if v == "" {
		return nil
	}
	m := acmARNRE.FindStringSubmatch(v)
	switch {
	case m == nil:
		return bad("not an ACM certificate ARN",
			`give the ARN that ACM shows, such as "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f", or leave it empty for HTTP only`)
	case m[2] != c.Region:
		return bad(fmt.Sprintf("a certificate in %s, but region is %q; a load balancer uses certificates of its own region only", m[2], c.Region),
			fmt.Sprintf("request or import the certificate in ACM in %s and give that ARN", c.Region))
	case m[1] != c.partition():
		return bad(fmt.Sprintf("a certificate in partition %s, but region %q is in %s", m[1], c.Region, c.partition()),
			"give the ARN of a certificate in the deployment's region")
	}
	return nil
}

// The checks of the cdn and custom domain settings.

// checkCDN refuses what a distribution in front of private instances
// cannot honour.
func checkCDN(c Config, v bool) []problem {
	if !v {
		return nil
	}
	var ps []problem
	if c.partition() != "aws" {
		// VPC origins are offered in the commercial regions (AWS's launch
		// post, https://aws.amazon.com/blogs/networking-and-content-delivery/introducing-cloudfront-virtual-private-cloud-vpc-origins-shield-your-web-applications-from-public-internet/;
		// the guide's "Supported AWS Regions for VPC origins" lists them).
		ps = append(ps, bad(fmt.Sprintf("region %q is in partition %s, where CloudFront cannot reach a VPC origin", c.Region, c.partition()),
			"set cdn to false, or deploy to a region of the aws partition")...)
	}
	if !slices.Equal(c.AllowedCIDRs, []string{"0.0.0.0/0"}) {
		// The origin admits CloudFront only, and CloudFront answers every
		// address: allowedCidrs would silently stop meaning anything.
		ps = append(ps, bad("allowedCidrs is "+listKind("").format(c.AllowedCIDRs)+", but with cdn the origin admits CloudFront only and CloudFront answers every address",
			`set allowedCidrs back to ["0.0.0.0/0"], or cdn to false`)...)
	}
	if (c.SSM || c.HTPasswdParameter != "") && !c.SSMEndpoints {
		// Private subnets have no way to the internet (no NAT gateway), so
		// the instances reach Session Manager and Parameter Store through
		// interface endpoints or not at all.
		ps = append(ps, bad("the instances would be in private subnets with no way to the internet, where Session Manager (ssm) and Parameter Store (htpasswdParameter) are",
			"set ssmEndpoints to true (interface endpoints in the VPC, billed by the hour: see docs/deploy.md's costs), or ssm to false (without htpasswdParameter)")...)
	}
	if c.ha() && c.CertificateARN != "" {
		ps = append(ps, bad("certificateArn is for the load balancer, but with cdn the load balancer is internal and CloudFront serves HTTPS",
			"leave certificateArn empty; for a custom domain on the distribution set domainName and hostedZoneId")...)
	}
	return ps
}

// domainNameRE matches a DNS name as ACM issues certificates for it:
// lowercase labels of letters, digits and inner hyphens, at least two,
// no trailing dot and no wildcard.
var domainNameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkDomainName checks the name, that the zone comes with it, and that
// something in the configuration can serve it with a certificate.
func checkDomainName(c Config, v string) []problem {
	const fix = `write the full name in lowercase without a trailing dot, such as "files.example.com"`
	switch {
	case v == "":
		return nil
	case len(v) > 253 || !domainNameRE.MatchString(v):
		return bad("not a DNS name (lowercase letters, digits and hyphens in dot-separated labels)", fix)
	case c.HostedZoneID == "":
		return bad("needs hostedZoneId, the Route 53 hosted zone to validate the certificate and create the record in",
			"set hostedZoneId to the ID of the zone that holds the name")
	case c.single() && !c.CDN:
		// An ACM certificate is bound to the services integrated with ACM
		// (CloudFront, load balancers); the stack installs none on an
		// instance, whose TLS is self-signed.
		// https://docs.aws.amazon.com/acm/latest/userguide/service-options.html
		return bad(`mode "single" without cdn has nothing to serve its certificate (an ACM certificate goes on CloudFront or a load balancer, not on an instance)`,
			`set cdn to true (CloudFront serves the domain), or mode to "ha" (the load balancer does)`)
	case c.ha() && !c.CDN && c.CertificateARN != "":
		return bad("certificateArn is set too: the load balancer takes one certificate",
			"leave certificateArn empty (the stack requests a certificate for domainName), or domainName empty")
	}
	return nil
}

// hostedZoneIDRE matches a Route 53 hosted zone ID: "Z" and uppercase
// letters and digits.
var hostedZoneIDRE = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)

func checkHostedZoneID(c Config, v string) []problem {
	switch {
	case v == "":
		return nil
	case !hostedZoneIDRE.MatchString(v):
		return bad("not a Route 53 hosted zone ID", `give the ID as Route 53 shows it, such as "Z0123456789ABCDEFGHIJ", without "/hostedzone/"`)
	case c.DomainName == "":
		return bad("set without domainName", "set domainName to the name to serve, or hostedZoneId back to empty")
	}
	return nil
}

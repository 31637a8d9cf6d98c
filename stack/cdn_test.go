package stack

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/stack/internal/edgefunc"
)

// The tests of the cdn and custom domain settings synthesize five more
// stacks behind their own sync.Once. That cdn off leaves every other
// configuration as it was is TestGolden's: the golden files did not
// change when the setting came.

// cdnConfigs are the configurations of the cdn and custom domain tests:
// cdn in both modes at the defaults it needs (ssmEndpoints, since the
// instances have no other way to Session Manager); a custom domain with
// cdn, in another region than the certificate's, with named CORS origins
// and a stale window;
// cdn behind a password in mode "ha"; and a custom domain on the load
// balancer of mode "ha" without cdn.
func cdnConfigs() []namedConfig {
	single := DefaultConfig()
	single.CDN, single.SSMEndpoints = true, true

	ha := haDefaultConfig()
	ha.CDN, ha.SSMEndpoints = true, true

	domain := DefaultConfig()
	domain.Region = "eu-west-1"
	domain.CDN, domain.SSM = true, false
	domain.DomainName, domain.HostedZoneID = testDomain, testZone
	domain.CORSOrigins = []string{"https://example.com"}
	// Listings that answer stale at the edge too: the cache policy stays
	// the same (TestCDNCachePolicy).
	domain.CacheStale = 30 * time.Second

	password := haDefaultConfig()
	password.CDN, password.SSM, password.SSMEndpoints = true, false, true
	password.HTPasswdParameter = "/bucketls/htpasswd"

	haDomain := haDefaultConfig()
	haDomain.DomainName, haDomain.HostedZoneID = testDomain, testZone

	return []namedConfig{{"cdn", single}, {"ha-cdn", ha}, {"cdn-domain", domain}, {"ha-cdn-password", password}, {"ha-domain", haDomain}}
}

// The custom domain of the tests and its Route 53 zone.
const (
	testDomain = "files.example.com"
	testZone   = "Z0123456789ABCDEFGHIJ"
)

var cdnFx fixture

// cdnSynthesized returns the stacks of cdnConfigs, in order.
func cdnSynthesized(t *testing.T) (single, ha, domain, password, haDomain *synthCase) {
	t.Helper()
	c := cdnFx.synth(t, cdnConfigs()...)
	return c[0], c[1], c[2], c[3], c[4]
}

// withCDN runs f for each stack with cdn on.
func withCDN(t *testing.T, f func(t *testing.T, c *synthCase)) {
	single, ha, domain, password, _ := cdnSynthesized(t)
	for i, c := range []*synthCase{single, ha, domain, password} {
		t.Run(cdnConfigs()[i].name, func(t *testing.T) { f(t, c) })
	}
}

// dataName returns the name and body of the only data source of type typ.
func (c *synthCase) dataName(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	return onlyEntry(t, typ+" data sources", c.tf.Data[typ])
}

// TestCDNConfigsAreValid: what the cdn tests synthesize is deployable,
// the password behind CloudFront included without allowPasswordsInClear.
func TestCDNConfigsAreValid(t *testing.T) {
	for _, nc := range cdnConfigs() {
		if err := nc.cfg.Validate(); err != nil {
			t.Errorf("%s: %v", nc.name, err)
		}
	}
}

// TestCDNConfigErrors: what the cdn and domain settings cannot honour is
// refused, naming the setting and the fix.
func TestCDNConfigErrors(t *testing.T) {
	cdn := func(f func(c *Config)) Config {
		c := DefaultConfig()
		c.CDN, c.SSMEndpoints = true, true
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		key  string   // the setting the error names
		want []string // in the message
	}{
		{"cdn without ssmEndpoints while ssm is on", func() Config { c := DefaultConfig(); c.CDN = true; return c }(),
			"cdn", []string{"private subnets", "set ssmEndpoints to true", "ssm to false"}},
		{"cdn with a password, without ssmEndpoints", cdn(func(c *Config) { c.SSM, c.SSMEndpoints, c.HTPasswdParameter = false, false, "/bucketls/htpasswd" }),
			"cdn", []string{"Parameter Store", "set ssmEndpoints to true"}},
		{"cdn with allowedCidrs", cdn(func(c *Config) { c.AllowedCIDRs = []string{"203.0.113.0/24"} }),
			"cdn", []string{`allowedCidrs is ["203.0.113.0/24"]`, `set allowedCidrs back to ["0.0.0.0/0"], or cdn to false`}},
		{"cdn in China", cdn(func(c *Config) { c.Region = "cn-north-1" }),
			"cdn", []string{"partition aws-cn", "set cdn to false"}},
		{"cdn with certificateArn in ha", cdn(func(c *Config) {
			c.Mode = ModeHA
			c.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
		}), "cdn", []string{"load balancer is internal", "set domainName and hostedZoneId"}},
		{"a domain in single mode without cdn", func() Config {
			c := DefaultConfig()
			c.DomainName, c.HostedZoneID = testDomain, testZone
			return c
		}(), "domainName", []string{"not on an instance", "set cdn to true", `mode to "ha"`}},
		{"a domain without its zone", cdn(func(c *Config) { c.DomainName = testDomain }),
			"domainName", []string{"needs hostedZoneId"}},
		{"a zone without a domain", cdn(func(c *Config) { c.HostedZoneID = testZone }),
			"hostedZoneId", []string{"without domainName"}},
		{"a zone with its path", cdn(func(c *Config) { c.DomainName, c.HostedZoneID = testDomain, "/hostedzone/"+testZone }),
			"hostedZoneId", []string{"not a Route 53 hosted zone ID"}},
		{"a domain with capitals", cdn(func(c *Config) { c.DomainName, c.HostedZoneID = "Files.Example.com", testZone }),
			"domainName", []string{"not a DNS name"}},
		{"a wildcard", cdn(func(c *Config) { c.DomainName, c.HostedZoneID = "*.example.com", testZone }),
			"domainName", []string{"not a DNS name"}},
		{"a trailing dot", cdn(func(c *Config) { c.DomainName, c.HostedZoneID = "files.example.com.", testZone }),
			"domainName", []string{"not a DNS name"}},
		{"one label", cdn(func(c *Config) { c.DomainName, c.HostedZoneID = "localhost", testZone }),
			"domainName", []string{"not a DNS name"}},
		{"a URL", cdn(func(c *Config) { c.DomainName, c.HostedZoneID = "https://files.example.com", testZone }),
			"domainName", []string{"not a DNS name"}},
		{"a domain and certificateArn in ha", func() Config {
			c := haDefaultConfig()
			c.DomainName, c.HostedZoneID = testDomain, testZone
			c.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
			return c
		}(), "domainName", []string{"one certificate"}},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: Validate() = %v, want a *ConfigError", tc.name, err)
			continue
		}
		if joined, ok := err.(interface{ Unwrap() []error }); ok && len(joined.Unwrap()) != 1 {
			t.Errorf("%s: %d errors, want 1: %v", tc.name, len(joined.Unwrap()), err)
		}
		if ce.Key != tc.key {
			t.Errorf("%s: error names %q, want %q: %v", tc.name, ce.Key, tc.key, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// originOf returns the VPC origin's target and the distribution's origin
// domain that c must have: the instance in mode "single", the load
// balancer in mode "ha".
func (c *synthCase) originOf(t *testing.T) (arn, domain string) {
	t.Helper()
	if c.cfg.ha() {
		lb, _ := c.one(t, "aws_lb")
		return ref("aws_lb", lb, "arn"), ref("aws_lb", lb, "dns_name")
	}
	inst, _ := c.one(t, "aws_instance")
	return ref("aws_instance", inst, "arn"), ref("aws_instance", inst, "private_dns")
}

// TestCDNVPCOrigin: the distribution's one origin is a VPC origin on the
// instance (single) or the load balancer (ha), spoken to in HTTP on the
// service's port.
func TestCDNVPCOrigin(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		arn, domain := c.originOf(t)
		vo, body := c.one(t, "aws_cloudfront_vpc_origin")
		vpc, _ := c.one(t, "aws_vpc")
		wantEndpoint := []any{map[string]any{
			"arn": arn, "name": "bucketls-" + ref("aws_vpc", vpc, "id"),
			"http_port": float64(80), "https_port": float64(443), "origin_protocol_policy": "http-only",
			"origin_ssl_protocols": []any{map[string]any{"items": []any{"TLSv1.2"}, "quantity": float64(1)}},
		}}
		if got := body["vpc_origin_endpoint_config"]; !reflect.DeepEqual(got, wantEndpoint) {
			t.Errorf("vpc_origin_endpoint_config = %v\nwant %v", got, wantEndpoint)
		}
		_, dist := c.one(t, "aws_cloudfront_distribution")
		wantOrigin := []any{map[string]any{
			"origin_id": "bucketls", "domain_name": domain,
			"vpc_origin_config": map[string]any{"vpc_origin_id": ref("aws_cloudfront_vpc_origin", vo, "id")},
		}}
		if got := dist["origin"]; !reflect.DeepEqual(got, wantOrigin) {
			t.Errorf("distribution origin = %v\nwant %v", got, wantOrigin)
		}
	})
}

// TestCDNOriginIsPrivate: with cdn the subnets have no route to the
// internet, the internet gateway stays (a VPC origin's VPC needs one),
// the instances and the load balancer have no public address, and the
// single instance serves no TLS of its own.
func TestCDNOriginIsPrivate(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		if got := c.names("aws_route"); len(got) != 0 {
			t.Errorf("routes %v, want none", got)
		}
		if got := c.names("aws_internet_gateway"); len(got) != 1 {
			t.Errorf("internet gateways %v, want one", got)
		}
		rt, _ := c.one(t, "aws_route_table")
		var subnets []string
		for _, name := range c.names("aws_subnet") {
			sn := c.tf.Resource["aws_subnet"][name]
			if !strings.HasPrefix(name, "network_private-") || sn["map_public_ip_on_launch"] != false {
				t.Errorf("subnet %s = %v, want a private one", name, sn)
			}
			subnets = append(subnets, ref("aws_subnet", name, "id"))
		}
		for name, a := range c.tf.Resource["aws_route_table_association"] {
			if a["route_table_id"] != ref("aws_route_table", rt, "id") || !slices.Contains(subnets, a["subnet_id"].(string)) {
				t.Errorf("route table association %s = %v", name, a)
			}
		}
		if !c.cfg.ha() {
			_, inst := c.one(t, "aws_instance")
			if inst["associate_public_ip_address"] != false || inst["subnet_id"] != subnets[0] {
				t.Errorf("instance: associate_public_ip_address = %v in %v, want false in %s", inst["associate_public_ip_address"], inst["subnet_id"], subnets[0])
			}
			if ud, _ := inst["user_data"].(string); strings.Contains(ud, "BUCKETLS_TLS_ADDR") {
				t.Error("the instance serves TLS of its own behind CloudFront")
			}
			return
		}
		_, lb := c.one(t, "aws_lb")
		if lb["internal"] != true || !reflect.DeepEqual(lb["subnets"], toAny(subnets)) {
			t.Errorf("load balancer: internal = %v in %v, want true in %v", lb["internal"], lb["subnets"], subnets)
		}
		_, lt := c.one(t, "aws_launch_template")
		if ni := lt["network_interfaces"].([]any)[0].(map[string]any); ni["associate_public_ip_address"] != "false" {
			t.Errorf("launch template: associate_public_ip_address = %v, want false", ni["associate_public_ip_address"])
		}
		_, asg := c.one(t, "aws_autoscaling_group")
		if !reflect.DeepEqual(asg["vpc_zone_identifier"], toAny(subnets)) {
			t.Errorf("group subnets = %v, want %v", asg["vpc_zone_identifier"], subnets)
		}
	})
}

// TestCDNSecurityGroupRules lists every ingress rule of each cdn stack:
// port 80 from CloudFront's origin-facing prefix list to the origin and
// nothing else from outside the VPC; no egress to the internet.
func TestCDNSecurityGroupRules(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		pl, data := c.dataName(t, "aws_ec2_managed_prefix_list")
		if data["name"] != "com.amazonaws.global.cloudfront.origin-facing" {
			t.Errorf("prefix list %s = %v", pl, data)
		}
		groups := map[string]string{} // reference -> name prefix
		for name, sg := range c.tf.Resource["aws_security_group"] {
			groups[ref("aws_security_group", name, "id")] = sg["name_prefix"].(string)
		}
		var ingress []string
		for name, r := range c.tf.Resource["aws_security_group_rule"] {
			if r["type"] == "egress" {
				if cidrs, ok := r["cidr_blocks"]; ok {
					t.Errorf("egress rule %s to %v", name, cidrs)
				}
				continue
			}
			peer := fmt.Sprint(r["cidr_blocks"])
			switch {
			case reflect.DeepEqual(r["prefix_list_ids"], []any{"${data.aws_ec2_managed_prefix_list." + pl + ".id}"}):
				peer = "cloudfront"
			case r["source_security_group_id"] != nil:
				peer = groups[r["source_security_group_id"].(string)]
			}
			ingress = append(ingress, fmt.Sprintf("%s %v-%v %s from %s", groups[r["security_group_id"].(string)], r["from_port"], r["to_port"], r["protocol"], peer))
		}
		slices.Sort(ingress)
		want := []string{"bucketls-web- 80-80 tcp from cloudfront"}
		if c.cfg.ha() {
			want = []string{"bucketls-instance- 80-80 tcp from bucketls-lb-", "bucketls-lb- 80-80 tcp from cloudfront"}
		}
		if c.cfg.SSMEndpoints {
			want = append(want, "bucketls-ssm-endpoints- 443-443 tcp from [10.0.0.0/16]")
		}
		slices.Sort(want)
		if !reflect.DeepEqual(ingress, want) {
			t.Errorf("ingress rules:\n%s\nwant\n%s", strings.Join(ingress, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestCDNCachePolicy: the listings' cache key is every query parameter,
// the normalised Accept (and Origin with corsOrigins), no cookies, the
// normalised Accept-Encoding; the TTLs follow the origin within bounds.
// Behind a password there is no such policy.
func TestCDNCachePolicy(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		if c.cfg.HTPasswdParameter != "" {
			if got := c.names("aws_cloudfront_cache_policy"); len(got) != 0 {
				t.Errorf("cache policies %v behind a password, want none", got)
			}
			return
		}
		_, p := c.one(t, "aws_cloudfront_cache_policy")
		vpc, _ := c.one(t, "aws_vpc")
		headers := []any{"Accept"}
		if len(c.cfg.CORSOrigins) > 0 {
			headers = append(headers, "Origin")
		}
		want := map[string]any{
			"name":    "bucketls-listing-" + ref("aws_vpc", vpc, "id"),
			"min_ttl": float64(0), "default_ttl": float64(60), "max_ttl": float64(3600),
			"parameters_in_cache_key_and_forwarded_to_origin": map[string]any{
				"query_strings_config":          map[string]any{"query_string_behavior": "all"},
				"headers_config":                map[string]any{"header_behavior": "whitelist", "headers": map[string]any{"items": headers}},
				"cookies_config":                map[string]any{"cookie_behavior": "none"},
				"enable_accept_encoding_gzip":   true,
				"enable_accept_encoding_brotli": true,
			},
		}
		for k, v := range want {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("cache policy %s = %v\nwant %v", k, p[k], v)
			}
		}
	})
}

// TestCDNStaleWindow: with cacheStale, the single instance's unit passes
// the window to the service, whose listings then carry it to CloudFront
// as stale-while-revalidate and stale-if-error; the listing cache policy
// keeps the TTLs it has without it (the window is the origin's to state;
// the maximum TTL bounds max-age, see edgeMaxTTL).
func TestCDNStaleWindow(t *testing.T) {
	single, _, domain, _, _ := cdnSynthesized(t)
	if single.cfg.CacheStale != 0 || domain.cfg.CacheStale == 0 {
		t.Fatalf("cacheStale %s and %s: want the cdn stack without and the domain stack with", single.cfg.CacheStale, domain.cfg.CacheStale)
	}
	for _, c := range []*synthCase{single, domain} {
		ud, values := c.userDataOf(t)
		c.checkScript(t, renderUserData(t, ud, values), c.cfg.instanceTLS())
	}
	_, without := single.one(t, "aws_cloudfront_cache_policy")
	_, with := domain.one(t, "aws_cloudfront_cache_policy")
	for _, k := range []string{"min_ttl", "default_ttl", "max_ttl"} {
		if with[k] != without[k] {
			t.Errorf("cache policy %s = %v with cacheStale, %v without", k, with[k], without[k])
		}
	}
}

// TestCDNBehaviours: each route of edgeRoutes has its behaviour, in
// order; the listings use the listing policy (CachingDisabled with every
// viewer header, Authorization included, behind a password), everything
// else is uncached; every behaviour redirects HTTP to HTTPS, compresses,
// and runs the viewer-request function, which keeps /metrics from the
// origin.
func TestCDNBehaviours(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		disabledName, disabled := c.dataName(t, "aws_cloudfront_cache_policy")
		allViewerName, allViewer := c.dataName(t, "aws_cloudfront_origin_request_policy")
		if disabled["name"] != "Managed-CachingDisabled" || allViewer["name"] != "Managed-AllViewerExceptHostHeader" {
			t.Errorf("managed policies %v and %v", disabled, allViewer)
		}
		fn, _ := c.one(t, "aws_cloudfront_function")
		uncachedPolicies := [2]any{"${data.aws_cloudfront_cache_policy." + disabledName + ".id}", "${data.aws_cloudfront_origin_request_policy." + allViewerName + ".id}"}
		listingPolicies := uncachedPolicies
		if c.cfg.HTPasswdParameter == "" {
			listing, _ := c.one(t, "aws_cloudfront_cache_policy")
			listingPolicies = [2]any{ref("aws_cloudfront_cache_policy", listing, "id"), nil}
			if len(c.cfg.CORSOrigins) > 0 {
				preflight, p := c.one(t, "aws_cloudfront_origin_request_policy")
				listingPolicies[1] = ref("aws_cloudfront_origin_request_policy", preflight, "id")
				wantHeaders := map[string]any{"header_behavior": "whitelist", "headers": map[string]any{"items": []any{"Access-Control-Request-Method", "Access-Control-Request-Headers"}}}
				if !reflect.DeepEqual(p["headers_config"], wantHeaders) {
					t.Errorf("CORS preflight policy headers = %v, want %v", p["headers_config"], wantHeaders)
				}
			}
		}
		check := func(where string, b map[string]any, policies [2]any) {
			t.Helper()
			want := map[string]any{
				"target_origin_id": "bucketls", "viewer_protocol_policy": "redirect-to-https", "compress": true,
				"allowed_methods": []any{"GET", "HEAD", "OPTIONS"}, "cached_methods": []any{"GET", "HEAD"},
				"cache_policy_id": policies[0], "origin_request_policy_id": policies[1],
				"function_association": []any{map[string]any{"event_type": "viewer-request", "function_arn": ref("aws_cloudfront_function", fn, "arn")}},
			}
			for k, v := range want {
				if !reflect.DeepEqual(b[k], v) {
					t.Errorf("%s: %s = %v, want %v", where, k, b[k], v)
				}
			}
		}
		_, dist := c.one(t, "aws_cloudfront_distribution")
		check("default behaviour", dist["default_cache_behavior"].(map[string]any), uncachedPolicies)
		ordered := dist["ordered_cache_behavior"].([]any)
		var patterns []string
		for i, o := range ordered {
			b := o.(map[string]any)
			patterns = append(patterns, b["path_pattern"].(string))
			policies := uncachedPolicies
			if i < len(edgeRoutes) && edgeRoutes[i].caching == listing {
				policies = listingPolicies
			}
			check(fmt.Sprint(b["path_pattern"]), b, policies)
		}
		want := []string{"/list-bucket-content", "/list-bucket-content/*", "/healthz", "/readyz"}
		if !reflect.DeepEqual(patterns, want) {
			t.Errorf("ordered behaviours %q, want %q", patterns, want)
		}
		for _, p := range patterns {
			if strings.HasPrefix(p, "/metrics") {
				t.Errorf("a behaviour for %s: /metrics has none, the function answers it", p)
			}
		}
	})
}

// TestCDNFunction: the distribution runs the function the edgefunc tests
// run under Node.js, published, in the runtime it is written for.
func TestCDNFunction(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		_, fn := c.one(t, "aws_cloudfront_function")
		vpc, _ := c.one(t, "aws_vpc")
		for k, v := range map[string]any{
			"code": edgefunc.ViewerRequest, "runtime": "cloudfront-js-2.0", "publish": true,
			"name": "bucketls-viewer-request-" + ref("aws_vpc", vpc, "id"),
		} {
			if fn[k] != v {
				t.Errorf("function %s = %.60v, want %.60v", k, fn[k], v)
			}
		}
	})
}

// TestCDNViewers: HTTP/2 and 3, IPv6; on *.cloudfront.net CloudFront's
// certificate, on a custom domain the validated ACM certificate by SNI
// with TLS 1.2 at least.
func TestCDNViewers(t *testing.T) {
	withCDN(t, func(t *testing.T, c *synthCase) {
		_, dist := c.one(t, "aws_cloudfront_distribution")
		for k, v := range map[string]any{
			"enabled": true, "http_version": "http2and3", "is_ipv6_enabled": true, "price_class": "PriceClass_All",
			"restrictions": map[string]any{"geo_restriction": map[string]any{"restriction_type": "none"}},
		} {
			if !reflect.DeepEqual(dist[k], v) {
				t.Errorf("distribution %s = %v, want %v", k, dist[k], v)
			}
		}
		wantCert := map[string]any{"cloudfront_default_certificate": true}
		var wantAliases any
		if c.cfg.DomainName != "" {
			validation, _ := c.one(t, "aws_acm_certificate_validation")
			wantCert = map[string]any{
				"acm_certificate_arn":      ref("aws_acm_certificate_validation", validation, "certificate_arn"),
				"ssl_support_method":       "sni-only",
				"minimum_protocol_version": "TLSv1.2_2021",
			}
			wantAliases = []any{testDomain}
		}
		if !reflect.DeepEqual(dist["viewer_certificate"], wantCert) || !reflect.DeepEqual(dist["aliases"], wantAliases) {
			t.Errorf("viewer_certificate = %v, aliases = %v\nwant %v, %v", dist["viewer_certificate"], dist["aliases"], wantCert, wantAliases)
		}
	})
}

// TestCDNOutputs: url (and https_url) is the HTTPS URL users should use:
// the custom domain when there is one, else the distribution's name;
// distribution_id with cdn; the mode's own outputs stay.
func TestCDNOutputs(t *testing.T) {
	single, ha, domain, password, haDomain := cdnSynthesized(t)
	for _, c := range []*synthCase{single, ha, domain, password, haDomain} {
		want := map[string]string{}
		var host string
		switch {
		case c.cfg.DomainName != "":
			host = testDomain
		default:
			dist, _ := c.one(t, "aws_cloudfront_distribution")
			host = ref("aws_cloudfront_distribution", dist, "domain_name")
		}
		want["url"] = "https://" + host + "/list-bucket-content"
		want["https_url"] = want["url"]
		if c.cfg.CDN {
			dist, _ := c.one(t, "aws_cloudfront_distribution")
			want["distribution_id"] = ref("aws_cloudfront_distribution", dist, "id")
		}
		if c.cfg.ha() {
			asg, _ := c.one(t, "aws_autoscaling_group")
			want["autoscaling_group_name"] = ref("aws_autoscaling_group", asg, "name")
		} else {
			inst, _ := c.one(t, "aws_instance")
			want["instance_id"] = ref("aws_instance", inst, "id")
		}
		got := map[string]string{}
		for name, o := range c.tf.Output {
			if name != "bucket_name" && name != "artifact_uri" {
				got[name] = fmt.Sprint(o["value"])
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: outputs = %v\nwant %v", c.res.Dir, got, want)
		}
	}
}

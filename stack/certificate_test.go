package stack

import (
	"fmt"
	"reflect"
	"testing"
)

// The certificate and DNS tests use the custom-domain stacks of
// cdnConfigs (cdn_test.go).

// checkCertificate checks the ACM certificate of testDomain, its DNS
// validation in testZone, and that its validation is done with provider
// (absent: the stack's region's).
func (c *synthCase) checkCertificate(t *testing.T, provider any) (validation string) {
	t.Helper()
	cert, body := c.one(t, "aws_acm_certificate")
	for k, v := range map[string]any{"domain_name": testDomain, "validation_method": "DNS", "provider": provider} {
		if body[k] != v {
			t.Errorf("certificate %s = %v, want %v", k, body[k], v)
		}
	}
	option := func(attr string) string {
		return "${tolist(aws_acm_certificate." + cert + ".domain_validation_options).0." + attr + "}"
	}
	var record string
	for name, r := range c.tf.Resource["aws_route53_record"] {
		if r["alias"] == nil {
			record = name
			want := map[string]any{"zone_id": testZone, "name": option("resource_record_name"), "type": option("resource_record_type"),
				"records": []any{option("resource_record_value")}, "ttl": float64(300), "allow_overwrite": true}
			for k, v := range want {
				if !reflect.DeepEqual(r[k], v) {
					t.Errorf("validation record %s = %v, want %v", k, r[k], v)
				}
			}
		}
	}
	validation, v := c.one(t, "aws_acm_certificate_validation")
	want := map[string]any{"certificate_arn": ref("aws_acm_certificate", cert, "arn"),
		"validation_record_fqdns": []any{ref("aws_route53_record", record, "fqdn")}, "provider": provider}
	for k, w := range want {
		if !reflect.DeepEqual(v[k], w) {
			t.Errorf("validation %s = %v, want %v", k, v[k], w)
		}
	}
	return validation
}

// aliasRecords returns the alias records of c by type, each as "name ->
// target name in target zone".
func (c *synthCase) aliasRecords() map[string]string {
	out := map[string]string{}
	for _, r := range c.tf.Resource["aws_route53_record"] {
		if a, ok := r["alias"].(map[string]any); ok {
			out[r["type"].(string)] = fmt.Sprintf("%v in %v: %v -> %v in %v (health %v)", r["name"], r["zone_id"], r["type"], a["name"], a["zone_id"], a["evaluate_target_health"])
		}
	}
	return out
}

// TestCustomDomainWithCDN: the certificate is requested and validated in
// us-east-1 through a provider alias, while everything else stays in the
// stack's region; A and AAAA aliases point the domain at the distribution.
func TestCustomDomainWithCDN(t *testing.T) {
	_, _, domain, _, _ := cdnSynthesized(t)
	providers := domain.tf.Provider["aws"]
	if len(providers) != 2 || providers[0]["region"] != "eu-west-1" || providers[0]["alias"] != nil ||
		providers[1]["alias"] != "us-east-1" || providers[1]["region"] != "us-east-1" {
		t.Errorf("providers = %v, want the stack's (eu-west-1) and an alias us-east-1", providers)
	}
	if !reflect.DeepEqual(providers[1]["default_tags"], providers[0]["default_tags"]) {
		t.Errorf("the alias's default_tags %v differ from %v", providers[1]["default_tags"], providers[0]["default_tags"])
	}
	domain.checkCertificate(t, "aws.us-east-1")
	dist, _ := domain.one(t, "aws_cloudfront_distribution")
	target := func(attr string) string { return ref("aws_cloudfront_distribution", dist, attr) }
	want := map[string]string{}
	for _, typ := range []string{"A", "AAAA"} {
		want[typ] = fmt.Sprintf("%s in %s: %s -> %s in %s (health false)", testDomain, testZone, typ, target("domain_name"), target("hosted_zone_id"))
	}
	if got := domain.aliasRecords(); !reflect.DeepEqual(got, want) {
		t.Errorf("alias records = %v\nwant %v", got, want)
	}
}

// TestCustomDomainOnLoadBalancer: in mode "ha" without cdn the
// certificate is requested in the stack's region, validated, and served
// by the load balancer's HTTPS listener (HTTP redirects to it, 443 is
// open); an A alias points the domain at the load balancer.
func TestCustomDomainOnLoadBalancer(t *testing.T) {
	_, _, _, _, c := cdnSynthesized(t)
	if got := len(c.tf.Provider["aws"]); got != 1 {
		t.Errorf("%d aws providers, want the stack's only", got)
	}
	if got := c.names("aws_cloudfront_distribution"); len(got) != 0 {
		t.Errorf("distributions %v without cdn", got)
	}
	validation := c.checkCertificate(t, nil)
	p := c.haParts(t)
	var https map[string]any
	for _, l := range c.tf.Resource["aws_lb_listener"] {
		switch l["port"] {
		case float64(443):
			https = l
		case float64(80):
			if a := l["default_action"].([]any)[0].(map[string]any); a["type"] != "redirect" {
				t.Errorf("HTTP listener %v, want a redirect to HTTPS", a)
			}
		}
	}
	if https == nil || https["certificate_arn"] != ref("aws_acm_certificate_validation", validation, "certificate_arn") || https["ssl_policy"] != tlsPolicy {
		t.Errorf("HTTPS listener = %v, want the validated certificate", https)
	}
	var open bool
	for _, r := range c.tf.Resource["aws_security_group_rule"] {
		open = open || (r["security_group_id"] == ref("aws_security_group", p.lbSG, "id") && r["from_port"] == float64(443) && r["type"] == "ingress")
	}
	if !open {
		t.Error("no HTTPS ingress on the load balancer")
	}
	want := map[string]string{"A": fmt.Sprintf("%s in %s: A -> %s in %s (health false)", testDomain, testZone, ref("aws_lb", p.lb, "dns_name"), ref("aws_lb", p.lb, "zone_id"))}
	if got := c.aliasRecords(); !reflect.DeepEqual(got, want) {
		t.Errorf("alias records = %v\nwant %v", got, want)
	}
}

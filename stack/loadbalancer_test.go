package stack

import (
	"maps"
	"reflect"
	"slices"
	"testing"
)

// TestHAListeners: HTTP only without a certificate; with one, HTTP
// redirects to HTTPS, served with the certificate and a TLS 1.2+ policy.
func TestHAListeners(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		forward := []any{map[string]any{"type": "forward", "target_group_arn": ref("aws_lb_target_group", p.targets, "arn")}}
		byPort := map[float64]map[string]any{}
		for name, l := range c.tf.Resource["aws_lb_listener"] {
			if l["load_balancer_arn"] != ref("aws_lb", p.lb, "arn") {
				t.Errorf("listener %s is on %v", name, l["load_balancer_arn"])
			}
			byPort[l["port"].(float64)] = l
		}
		http := byPort[80]
		if http == nil || http["protocol"] != "HTTP" {
			t.Fatalf("no HTTP listener on 80: %v", byPort)
		}
		for _, k := range []string{"certificate_arn", "ssl_policy"} {
			if _, ok := http[k]; ok {
				t.Errorf("HTTP listener sets %s", k)
			}
		}
		if c.cfg.CertificateARN == "" {
			if len(byPort) != 1 {
				t.Errorf("listeners on ports %v, want 80 only without certificateArn", slices.Sorted(maps.Keys(byPort)))
			}
			if !reflect.DeepEqual(http["default_action"], forward) {
				t.Errorf("HTTP listener default_action = %v, want %v", http["default_action"], forward)
			}
			return
		}
		redirect := []any{map[string]any{"type": "redirect", "redirect": map[string]any{
			"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301",
		}}}
		if !reflect.DeepEqual(http["default_action"], redirect) {
			t.Errorf("HTTP listener default_action = %v, want %v", http["default_action"], redirect)
		}
		https := byPort[443]
		if len(byPort) != 2 || https == nil {
			t.Fatalf("listeners on ports %v, want 80 and 443 with certificateArn", slices.Sorted(maps.Keys(byPort)))
		}
		for k, v := range map[string]any{
			"protocol":        "HTTPS",
			"certificate_arn": c.cfg.CertificateARN,
			"ssl_policy":      "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
			"default_action":  forward,
		} {
			if !reflect.DeepEqual(https[k], v) {
				t.Errorf("HTTPS listener %s = %v, want %v", k, https[k], v)
			}
		}
	})
}

func TestHALoadBalancer(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		_, alb := c.one(t, "aws_lb")
		for k, v := range map[string]any{
			"load_balancer_type":         "application",
			"internal":                   false,
			"drop_invalid_header_fields": true,
			"enable_deletion_protection": false,
			"idle_timeout":               float64(idleTimeout),
			"security_groups":            []any{ref("aws_security_group", p.lbSG, "id")},
			"subnets":                    toAny(p.subnets),
		} {
			if !reflect.DeepEqual(alb[k], v) {
				t.Errorf("load balancer %s = %v, want %v", k, alb[k], v)
			}
		}
		if _, ok := alb["access_logs"]; ok {
			t.Errorf("load balancer has access_logs %v; the decision is no access logs (see newLoadBalancer)", alb["access_logs"])
		}
		if n, _ := alb["name_prefix"].(string); n == "" || len(n) > 6 {
			t.Errorf("load balancer name_prefix = %q, want a prefix of at most 6 characters", n)
		}

		_, tg := c.one(t, "aws_lb_target_group")
		vpc, _ := c.one(t, "aws_vpc")
		for k, v := range map[string]any{
			"port": float64(80), "protocol": "HTTP", "target_type": "instance",
			"vpc_id": ref("aws_vpc", vpc, "id"), "deregistration_delay": "30",
			"lifecycle": map[string]any{"create_before_destroy": true},
			"health_check": map[string]any{
				"enabled": true, "protocol": "HTTP", "port": "traffic-port", "path": "/healthz", "matcher": "200",
				"interval": float64(10), "timeout": float64(5), "healthy_threshold": float64(2), "unhealthy_threshold": float64(3),
			},
		} {
			if !reflect.DeepEqual(tg[k], v) {
				t.Errorf("target group %s = %v, want %v", k, tg[k], v)
			}
		}
	})
}

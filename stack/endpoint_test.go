package stack

import (
	"fmt"
	"reflect"
	"testing"
)

// The S3 gateway endpoint and what it narrows (issue 15): the route table
// of both subnets sends S3 to it, its policy allows only what the
// instances and dnf need, the instances' egress names its prefix list, and
// the role's S3 permissions hold only through it.

// s3PrefixListPeer is how rulePeer names S3's prefix list.
const s3PrefixListPeer = "s3-prefix-list"

// allStacks runs f for the four test stacks: single and ha, default and
// variant each.
func allStacks(t *testing.T, f func(t *testing.T, c *synthCase)) {
	def, _, variant := synthesized(t)
	haDef, haVariant := haSynthesized(t)
	for name, c := range map[string]*synthCase{"default": def, "variant": variant, "ha-default": haDef, "ha-variant": haVariant} {
		t.Run(name, func(t *testing.T) { f(t, c) })
	}
}

// s3Endpoint returns the name of the only gateway endpoint.
func (c *synthCase) s3Endpoint(t *testing.T) string {
	t.Helper()
	var names []string
	for name, ep := range c.tf.Resource["aws_vpc_endpoint"] {
		if ep["vpc_endpoint_type"] == "Gateway" {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("gateway endpoints %v, want one", names)
	}
	return names[0]
}

// ssmEndpointsPeer is how rulePeer names the Session Manager endpoints'
// security group.
const ssmEndpointsPeer = "ssm-endpoints"

// rulePeer returns what the security group rule r (named name) reaches or
// admits when it is not another group: its CIDRs, or s3PrefixListPeer for
// the S3 endpoint's prefix list. A rule with more than one kind of peer
// is an error.
func (c *synthCase) rulePeer(t *testing.T, name string, r map[string]any) string {
	t.Helper()
	peers := 0
	for _, k := range []string{"cidr_blocks", "source_security_group_id", "prefix_list_ids"} {
		if _, ok := r[k]; ok {
			peers++
		}
	}
	if peers != 1 {
		t.Errorf("rule %s = %v, want exactly one of CIDRs, a source group or a prefix list", name, r)
	}
	if pl, ok := r["prefix_list_ids"]; ok {
		if want := []any{ref("aws_vpc_endpoint", c.s3Endpoint(t), "prefix_list_id")}; !reflect.DeepEqual(pl, want) {
			t.Errorf("rule %s: prefix_list_ids = %v, want %v", name, pl, want)
		}
		return s3PrefixListPeer
	}
	if src, ok := r["source_security_group_id"]; ok {
		for name, sg := range c.tf.Resource["aws_security_group"] {
			if sg["name_prefix"] == "bucketls-ssm-endpoints-" && src == ref("aws_security_group", name, "id") {
				return ssmEndpointsPeer
			}
		}
	}
	return fmt.Sprint(r["cidr_blocks"])
}

// wantEgress is every destination of the instances' egress, all on TCP
// 443, sorted: S3 through the endpoint, and with ssm Session Manager, on
// the internet or, with ssmEndpoints, at its endpoints in the VPC.
func wantEgress(cfg Config) []string {
	switch {
	case usesSSMAPI(cfg) && cfg.SSMEndpoints:
		return []string{s3PrefixListPeer, ssmEndpointsPeer}
	case usesSSMAPI(cfg):
		return []string{"[0.0.0.0/0]", s3PrefixListPeer}
	}
	return []string{s3PrefixListPeer}
}

// usesSSMAPI reports whether the instances of cfg talk to the SSM API:
// for Session Manager, or for the htpasswd parameter in Parameter Store.
func usesSSMAPI(cfg Config) bool { return cfg.SSM || cfg.HTPasswdParameter != "" }

// servedAndArtifactARNs returns the ARN of the served bucket and of the
// artifact object, as references where the stack creates them.
func (c *synthCase) servedAndArtifactARNs(t *testing.T) (served, object string) {
	t.Helper()
	artifactBucket, contentBucket := c.bucketNames(t)
	served = "arn:aws:s3:::" + c.cfg.BucketName
	if contentBucket != "" {
		served = ref("aws_s3_bucket", contentBucket, "arn")
	}
	return served, ref("aws_s3_bucket", artifactBucket, "arn") + "/" + c.res.ArtifactKey
}

// checkInstancePolicy checks the instance role's policy doc statement by
// statement, conditions included.
func (c *synthCase) checkInstancePolicy(t *testing.T, doc, servedARN, objectARN string) {
	t.Helper()
	want := c.wantInstanceStatements(t, servedARN, objectARN) // with root prefix and password, if set
	if p := parsePolicy(t, doc); !reflect.DeepEqual(p.Statement, want) {
		t.Errorf("instance policy = %+v\nwant exactly %+v", p.Statement, want)
	}
}

func TestS3Endpoint(t *testing.T) {
	allStacks(t, func(t *testing.T, c *synthCase) {
		name, ep := c.one(t, "aws_vpc_endpoint")
		vpcName, _ := c.one(t, "aws_vpc")
		rtName, _ := c.one(t, "aws_route_table")
		rt := ref("aws_route_table", rtName, "id")
		for k, want := range map[string]any{
			"vpc_id":            ref("aws_vpc", vpcName, "id"),
			"service_name":      "com.amazonaws." + c.cfg.Region + ".s3",
			"vpc_endpoint_type": "Gateway",
			"route_table_ids":   []any{rt},
		} {
			if !reflect.DeepEqual(ep[k], want) {
				t.Errorf("endpoint %s: %s = %v, want %v", name, k, ep[k], want)
			}
		}
		// Every subnet, and so every instance, uses that route table.
		var subnets []string
		for an, a := range c.tf.Resource["aws_route_table_association"] {
			if a["route_table_id"] != rt {
				t.Errorf("route table association %s = %v, want the endpoint's route table", an, a)
			}
			subnets = append(subnets, fmt.Sprint(a["subnet_id"]))
		}
		var want []string
		for _, s := range c.names("aws_subnet") {
			want = append(want, ref("aws_subnet", s, "id"))
		}
		if !sameElements(subnets, want) {
			t.Errorf("route table associations cover %v, want every subnet %v", subnets, want)
		}

		served, object := c.servedAndArtifactARNs(t)
		anyone := map[string]string{"AWS": "*"}
		wantPolicy := []policyStatement{
			{Sid: "ListServedBucket", Effect: "Allow", Principal: anyone, Action: []string{"s3:ListBucket"}, Resource: []string{served}},
			{Sid: "ReadArtifact", Effect: "Allow", Principal: anyone, Action: []string{"s3:GetObject"}, Resource: []string{object}},
			{Sid: "ReadAmazonLinuxRepositories", Effect: "Allow", Principal: anyone, Action: []string{"s3:GetObject"},
				Resource: []string{"arn:aws:s3:::al2023-repos-" + c.cfg.Region + "-*/*"}},
		}
		if p := c.cfg.RootPrefix; p != "" { // the endpoint, too, lets only the subtree be listed
			wantPolicy[0].Condition = map[string]map[string]conditionValues{"StringLike": {"s3:prefix": {p + "/", p + "/*"}}}
		}
		if p := parsePolicy(t, ep["policy"].(string)); !reflect.DeepEqual(p.Statement, wantPolicy) {
			t.Errorf("endpoint policy = %+v\nwant exactly %+v", p.Statement, wantPolicy)
		}

		_, role := c.one(t, "aws_iam_role_policy")
		c.checkInstancePolicy(t, role["policy"].(string), served, object)
	})
}

// sameElements reports whether a and b hold the same strings, in any order.
func sameElements(a, b []string) bool {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

var endpointsFx fixture

// ssmEndpointsSynthesized returns the default stacks of both modes with
// ssmEndpoints on.
func ssmEndpointsSynthesized(t *testing.T) (single, ha *synthCase) {
	t.Helper()
	s, h := DefaultConfig(), haDefaultConfig()
	s.SSMEndpoints, h.SSMEndpoints = true, true
	c := endpointsFx.synth(t, namedConfig{"ssm-endpoints", s}, namedConfig{"ha-ssm-endpoints", h})
	return c[0], c[1]
}

// TestSSMEndpoints checks both modes with ssmEndpoints: an interface
// endpoint with private DNS per Session Manager service in the instances'
// subnets (the single instance's, or both), behind a group that admits
// HTTPS from the VPC only, and instances whose egress goes to S3 and to
// that group, never to the internet.
func TestSSMEndpoints(t *testing.T) {
	single, ha := ssmEndpointsSynthesized(t)
	t.Run("single", func(t *testing.T) {
		_, vm := single.one(t, "aws_instance")
		var web string
		for name, sg := range single.tf.Resource["aws_security_group"] {
			if sg["name_prefix"] == "bucketls-web-" {
				web = name
			}
		}
		single.checkSSMEndpoints(t, ref("aws_security_group", web, "id"), []string{fmt.Sprint(vm["subnet_id"])})
	})
	t.Run("ha", func(t *testing.T) {
		p := ha.haParts(t)
		ha.checkSSMEndpoints(t, ref("aws_security_group", p.instanceSG, "id"), p.subnets)
	})
}

// checkSSMEndpoints checks the Session Manager endpoints of c: in subnets,
// for the instances' group instSG.
func (c *synthCase) checkSSMEndpoints(t *testing.T, instSG string, subnets []string) {
	t.Helper()
	var sgName string
	for name, sg := range c.tf.Resource["aws_security_group"] {
		if sg["name_prefix"] == "bucketls-ssm-endpoints-" {
			sgName = name
		}
	}
	if sgName == "" {
		t.Fatal("no security group for the Session Manager endpoints")
	}
	sg := ref("aws_security_group", sgName, "id")
	var services []string
	for name, ep := range c.tf.Resource["aws_vpc_endpoint"] {
		if ep["vpc_endpoint_type"] == "Gateway" {
			continue
		}
		services = append(services, fmt.Sprint(ep["service_name"]))
		for k, want := range map[string]any{
			"vpc_endpoint_type":   "Interface",
			"private_dns_enabled": true,
			"security_group_ids":  []any{sg},
			"subnet_ids":          toAny(subnets),
		} {
			if !reflect.DeepEqual(ep[k], want) {
				t.Errorf("endpoint %s: %s = %v, want %v", name, k, ep[k], want)
			}
		}
	}
	want := []string{"com.amazonaws.us-east-1.ec2messages", "com.amazonaws.us-east-1.ssm", "com.amazonaws.us-east-1.ssmmessages"}
	if !sameElements(services, want) {
		t.Errorf("interface endpoints for %v, want %v", services, want)
	}
	var egress, endpointRules []string
	for name, r := range c.tf.Resource["aws_security_group_rule"] {
		switch {
		case r["security_group_id"] == sg:
			endpointRules = append(endpointRules, fmt.Sprint(r["type"], " ", r["from_port"], " ", c.rulePeer(t, name, r)))
		case r["security_group_id"] == instSG && r["type"] == "egress":
			if r["from_port"] != float64(443) || r["to_port"] != float64(443) {
				t.Errorf("instance egress %s = %v, want 443 only", name, r)
			}
			egress = append(egress, c.rulePeer(t, name, r))
		}
	}
	if w := []string{"ingress 443 [" + vpcCIDR + "]"}; !reflect.DeepEqual(endpointRules, w) {
		t.Errorf("endpoint group rules = %v, want %v", endpointRules, w)
	}
	if w := wantEgress(c.cfg); !sameElements(egress, w) {
		t.Errorf("instance egress = %v, want exactly %v", egress, w)
	}
}

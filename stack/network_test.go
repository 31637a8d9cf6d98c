package stack

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestServiceName(t *testing.T) {
	for _, tc := range []struct{ partition, region, service, want string }{
		{"aws", "eu-west-1", "s3", "com.amazonaws.eu-west-1.s3"},
		{"aws-us-gov", "us-gov-west-1", "ssm", "com.amazonaws.us-gov-west-1.ssm"},
		{"aws-cn", "cn-north-1", "s3", "cn.com.amazonaws.cn-north-1.s3"},
	} {
		if got := serviceName(tc.partition, tc.region, tc.service); got != tc.want {
			t.Errorf("serviceName(%q, %q, %q) = %q, want %q", tc.partition, tc.region, tc.service, got, tc.want)
		}
	}
}

func TestNetwork(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		vpcName, vpc := c.one(t, "aws_vpc")
		if vpc["enable_dns_hostnames"] != true || vpc["cidr_block"] != vpcCIDR {
			t.Errorf("vpc = %v, want %s with DNS hostnames (the url output needs a public DNS name)", vpc, vpcCIDR)
		}
		var zones []string
		for _, s := range c.tf.Resource["aws_subnet"] {
			if s["vpc_id"] != ref("aws_vpc", vpcName, "id") || s["map_public_ip_on_launch"] != false {
				t.Errorf("subnet %v: want it in the VPC without automatic public IPs", s)
			}
			zones = append(zones, fmt.Sprint(s["availability_zone"]))
		}
		sort.Strings(zones)
		offerName := only(t, c.tf.Data["aws_ec2_instance_type_offerings"])
		azName := only(t, c.tf.Data["aws_availability_zones"])
		usable := fmt.Sprintf("sort(setintersection(data.aws_availability_zones.%s.names, data.aws_ec2_instance_type_offerings.%s.locations))", azName, offerName)
		if want := []string{"${element(" + usable + ", 0)}", "${element(" + usable + ", 1)}"}; !reflect.DeepEqual(zones, want) {
			t.Errorf("subnet zones = %q, want %q", zones, want)
		}
		if !c.hasDataSource(t, "aws_ec2_instance_type_offerings", map[string]any{
			"location_type": "availability-zone",
			"filter":        []interface{}{map[string]interface{}{"name": "instance-type", "values": []interface{}{c.cfg.instanceType()}}},
		}) {
			t.Errorf("subnets are not limited to zones that offer %s", c.cfg.instanceType())
		}
		_, route := c.one(t, "aws_route")
		igwName, _ := c.one(t, "aws_internet_gateway")
		if route["destination_cidr_block"] != "0.0.0.0/0" || route["gateway_id"] != ref("aws_internet_gateway", igwName, "id") {
			t.Errorf("route = %v, want the default route to the internet gateway", route)
		}
		_, dsg := c.one(t, "aws_default_security_group")
		if _, ok := dsg["ingress"]; ok || dsg["egress"] != nil {
			t.Errorf("default security group = %v, want no rules", dsg)
		}
	})
}

func TestSecurityGroupRules(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		sgName, sg := c.one(t, "aws_security_group")
		if sg["ingress"] != nil || sg["egress"] != nil {
			t.Errorf("security group has inline rules: %v", sg)
		}
		wantIngress := []float64{80}
		if c.cfg.TLS {
			wantIngress = append(wantIngress, 443)
		}
		var gotIngress []float64
		var gotEgress []string
		for name, r := range c.tf.Resource["aws_security_group_rule"] {
			if r["security_group_id"] != ref("aws_security_group", sgName, "id") {
				t.Errorf("rule %s is not on the web security group", name)
			}
			from, to := r["from_port"].(float64), r["to_port"].(float64)
			if r["protocol"] != "tcp" || from != to {
				t.Errorf("rule %s = %v, want one TCP port", name, r)
			}
			if from <= 22 && 22 <= to {
				t.Errorf("rule %s opens port 22", name)
			}
			cidrs := fmt.Sprint(r["cidr_blocks"])
			switch r["type"] {
			case "ingress":
				gotIngress = append(gotIngress, from)
				if want := fmt.Sprint(toAny(c.cfg.AllowedCIDRs)); cidrs != want {
					t.Errorf("ingress rule %s admits %s, want exactly allowedCidrs %s", name, cidrs, want)
				}
			case "egress":
				gotEgress = append(gotEgress, c.rulePeer(t, name, r))
			default:
				t.Errorf("rule %s has type %v", name, r["type"])
			}
		}
		slices.Sort(gotIngress)
		if !reflect.DeepEqual(gotIngress, wantIngress) {
			t.Errorf("ingress ports = %v, want %v", gotIngress, wantIngress)
		}
		slices.Sort(gotEgress)
		if want := wantEgress(c.cfg); !reflect.DeepEqual(gotEgress, want) {
			t.Errorf("egress = %v, want exactly %v", gotEgress, want)
		}
	})
}

// TestHASecurityGroups checks every rule of both groups: the load balancer
// admits exactly allowedCidrs on 80 (and 443 with a certificate) and may
// only reach the instances on 80; the instances admit port 80 from the
// load balancer's group and nothing else, and reach out on 443 only: to
// S3's prefix list, and with ssm to the internet (see wantEgress).
func TestHASecurityGroups(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		lbSG, instSG := ref("aws_security_group", p.lbSG, "id"), ref("aws_security_group", p.instanceSG, "id")
		for name, sg := range c.tf.Resource["aws_security_group"] {
			if sg["ingress"] != nil || sg["egress"] != nil {
				t.Errorf("security group %s has inline rules: %v", name, sg)
			}
			if desc, _ := sg["description"].(string); desc == "" {
				t.Errorf("security group %s has no description", name)
			}
		}
		type rule struct {
			group, kind string
			port        float64
			peer        string // CIDRs or a security group reference
		}
		var got []rule
		for name, r := range c.tf.Resource["aws_security_group_rule"] {
			from, to := r["from_port"].(float64), r["to_port"].(float64)
			if r["protocol"] != "tcp" || from != to {
				t.Errorf("rule %s = %v, want one TCP port", name, r)
			}
			if desc, _ := r["description"].(string); desc == "" {
				t.Errorf("rule %s has no description", name)
			}
			for _, k := range []string{"ipv6_cidr_blocks", "self"} {
				if _, ok := r[k]; ok {
					t.Errorf("rule %s sets %s", name, k)
				}
			}
			group := map[any]string{lbSG: "lb", instSG: "instance"}[r["security_group_id"]]
			if group == "" {
				t.Errorf("rule %s is on %v, not on one of the two groups", name, r["security_group_id"])
			}
			peer := c.rulePeer(t, name, r)
			if src, ok := r["source_security_group_id"].(string); ok {
				peer = map[string]string{lbSG: "lb", instSG: "instance"}[src]
			}
			got = append(got, rule{group, fmt.Sprint(r["type"]), from, peer})
		}
		cidrs := fmt.Sprint(toAny(c.cfg.AllowedCIDRs))
		want := []rule{
			{"lb", "ingress", 80, cidrs},
			{"lb", "egress", 80, "instance"},
			{"instance", "ingress", 80, "lb"},
		}
		for _, peer := range wantEgress(c.cfg) {
			want = append(want, rule{"instance", "egress", 443, peer})
		}
		if c.cfg.CertificateARN != "" {
			want = append(want, rule{"lb", "ingress", 443, cidrs})
		}
		key := func(r rule) string { return fmt.Sprint(r) }
		slices.SortFunc(got, func(a, b rule) int { return strings.Compare(key(a), key(b)) })
		slices.SortFunc(want, func(a, b rule) int { return strings.Compare(key(a), key(b)) })
		if !reflect.DeepEqual(got, want) {
			t.Errorf("security group rules = %+v\nwant exactly %+v", got, want)
		}
	})
}

// The S3 gateway endpoint and what it narrows (issue 15): the route table
// of both subnets sends S3 to it, its policy allows only what the
// instances and dnf need, the instances' egress names its prefix list, and
// the role's S3 permissions hold only through it.

// s3PrefixListPeer is how rulePeer names S3's prefix list.
const s3PrefixListPeer = "s3-prefix-list"

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
		if c.cfg.ServeObjects { // and read only the served keys
			wantPolicy = slices.Insert(wantPolicy, 1, policyStatement{Sid: "ReadServedObjects", Effect: "Allow", Principal: anyone,
				Action: []string{"s3:GetObject"}, Resource: []string{servedKeysARN(served, c.cfg.RootPrefix)}})
		}
		if p := parsePolicy(t, ep["policy"].(string)); !reflect.DeepEqual(p.Statement, wantPolicy) {
			t.Errorf("endpoint policy = %+v\nwant exactly %+v", p.Statement, wantPolicy)
		}

		_, role := c.one(t, "aws_iam_role_policy")
		c.checkInstancePolicy(t, role["policy"].(string), served, object)
	})
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

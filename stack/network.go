package stack

import (
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsavailabilityzones"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsec2instancetypeofferings"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultsecuritygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/internetgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetableassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygrouprule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/subnet"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
)

// Address plan: one /16 for the VPC and one /24 per public subnet.
const vpcCIDR = "10.0.0.0/16"

// awsAPIPort is where the AWS APIs the instances call answer HTTPS: S3
// (through the gateway endpoint) and Session Manager's services (on the
// internet or through interface endpoints). Clients reach the service on
// its own ports, bootscript.HTTPPort and HTTPSPort.
const awsAPIPort = 443

// subnetPlan is a subnet to create: its construct ID and address range.
type subnetPlan struct{ id, cidr string }

// subnets are the two public subnets, one per zone.
var subnets = []subnetPlan{
	{"public-a", "10.0.0.0/24"},
	{"public-b", "10.0.1.0/24"},
}

// privateSubnets replace subnets with cdn: no route to the internet.
// Ranges of their own, so a switch of cdn can create the new subnets
// before the old ones go.
var privateSubnets = []subnetPlan{
	{"private-a", "10.0.2.0/24"},
	{"private-b", "10.0.3.0/24"},
}

// networkConfig is what the network needs to know.
type networkConfig struct {
	instanceType string   // subnets go to zones that offer it
	allowedCIDRs []string // may reach 80 (and 443)
	tls          bool     // open 443 (on the instance, or on the load balancer)
	// loadBalanced puts the instances behind a load balancer (mode "ha"):
	// the allowed CIDRs reach the load balancer, and only the load
	// balancer reaches the instances.
	loadBalanced bool
	region       string // the S3 gateway endpoint is regional
	partition    string
	// ssm keeps HTTPS out to the internet, for the Session Manager
	// endpoints (and Parameter Store's, for an htpasswdParameter); without
	// it the instances reach S3 and nothing else.
	ssm bool
	// ssmEndpoints (with ssm) puts interface endpoints for Session Manager
	// in the instances' subnets, and HTTPS out goes to them instead of the
	// internet.
	ssmEndpoints bool
	// s3EndpointPolicy is the S3 gateway endpoint's policy (see
	// s3EndpointPolicy): what anything in the VPC may do in S3.
	s3EndpointPolicy string
	// cdn: the instances (and the load balancer) are a CloudFront VPC
	// origin. The subnets are private, and only CloudFront's origin-facing
	// servers may reach port 80, in place of allowedCIDRs (see cdn.go).
	cdn bool
}

// network is the VPC and what instances and the load balancer attach to.
type network struct {
	vpcID     string
	subnetIDs []string // two subnets in two zones (private with cdn); a single instance uses the first
	webSGID   string   // single: 80/443 in from allowedCIDRs, 443 out
	// Mode "ha" (loadBalanced) has two groups instead of webSGID.
	lbSGID       string // the load balancer: 80/443 in from allowedCIDRs, 80 out to the instances
	instanceSGID string // the instances: 80 in from the load balancer only, 443 out
	// s3EndpointID is the S3 gateway endpoint on the route table of both
	// subnets: the instance role's S3 permissions require it.
	s3EndpointID string
	// internetEgress tells whether the instances open connections to the
	// internet (Session Manager or Parameter Store without ssmEndpoints).
	// Without it, instances behind the load balancer need no public
	// address: S3 is reached through the gateway endpoint.
	internetEgress bool
}

// newNetwork creates a VPC with two public subnets in two availability zones
// that offer the instance type, an internet gateway with the default route,
// the default security group stripped of its rules, an S3 gateway
// endpoint on the subnets' route table, and the security groups of the
// mode: in mode "single" the web group of the instance; in mode "ha"
// (cfg.loadBalanced) one group for the load balancer and one for the
// instances behind it. With cfg.cdn the subnets are private (no default
// route) and the groups admit CloudFront's origin-facing servers only.
func newNetwork(scope constructs.Construct, id string, cfg networkConfig) network {
	c := constructs.NewConstruct(scope, jsii.String(id))
	vpcID := newVPC(c)
	usable := usableZones(c, cfg)
	plan, rtID := newRouteTable(c, vpcID, cfg)
	subnetIDs := newSubnets(c, vpcID, rtID, plan, usable)
	s3 := newS3Endpoint(c, vpcID, rtID, cfg)

	out := egressPeers{s3PrefixListID: *s3.PrefixListId()}
	in := ingressPeers{cidrs: cfg.allowedCIDRs}
	if cfg.cdn {
		in = ingressPeers{prefixListID: newOriginFacingPrefixList(c, "cloudfront-origin-facing")}
	}
	if cfg.ssm && cfg.ssmEndpoints {
		// The subnets the instances run in: the first for the single
		// instance, both in mode "ha". Each zone served is billed.
		where := subnetIDs[:1]
		if cfg.loadBalanced {
			where = subnetIDs
		}
		out.ssmEndpointsSGID = newSSMEndpoints(c, *vpcID, where, cfg)
	}
	n := network{vpcID: *vpcID, subnetIDs: subnetIDs, s3EndpointID: *s3.Id(), internetEgress: cfg.ssm && !cfg.ssmEndpoints}
	if cfg.loadBalanced {
		n.lbSGID, n.instanceSGID = newLoadBalancedSecurityGroups(c, *vpcID, in, out, cfg)
	} else {
		n.webSGID = newWebSecurityGroup(c, "web-sg", *vpcID, in, out, cfg)
	}
	return n
}

// newVPC creates the VPC and takes over its default security group, and
// returns the VPC's ID.
func newVPC(c constructs.Construct) *string {
	v := vpc.NewVpc(c, jsii.String("vpc"), &vpc.VpcConfig{
		CidrBlock:        jsii.String(vpcCIDR),
		EnableDnsSupport: jsii.Bool(true),
		// Without DNS hostnames an instance has no public DNS name, and the
		// url output is built from it.
		EnableDnsHostnames: jsii.Bool(true),
		Tags:               &map[string]*string{"Name": jsii.String("bucketls")},
	})
	// The VPC's default security group allows all traffic between its
	// members; take it over with no rules so nothing can use it by accident.
	defaultsecuritygroup.NewDefaultSecurityGroup(c, jsii.String("default-sg"), &defaultsecuritygroup.DefaultSecurityGroupConfig{
		VpcId: v.Id(),
		Tags:  &map[string]*string{"Name": jsii.String("bucketls-default-unused")},
	})
	return v.Id()
}

// usableZones are the zones that are available without opt-in AND offer
// the instance type: not every zone has every type (t3 and t4g are missing
// from some), and RunInstances fails in a zone that lacks it. Sorted, so
// the choice is stable from one plan to the next.
func usableZones(c constructs.Construct, cfg networkConfig) *[]*string {
	zones := dataawsavailabilityzones.NewDataAwsAvailabilityZones(c, jsii.String("zones"), &dataawsavailabilityzones.DataAwsAvailabilityZonesConfig{
		State: jsii.String("available"),
	})
	offerings := dataawsec2instancetypeofferings.NewDataAwsEc2InstanceTypeOfferings(c, jsii.String("instance-type-zones"), &dataawsec2instancetypeofferings.DataAwsEc2InstanceTypeOfferingsConfig{
		LocationType: jsii.String("availability-zone"),
		Filter: &[]*dataawsec2instancetypeofferings.DataAwsEc2InstanceTypeOfferingsFilter{{
			Name:   jsii.String("instance-type"),
			Values: jsii.Strings(cfg.instanceType),
		}},
	})
	return cdktf.Fn_Sort(cdktf.Fn_Setintersection(
		anyList(zones.Names()),
		&[]*[]interface{}{anyList(offerings.Locations())},
	))
}

// newRouteTable creates the internet gateway and the subnets' route table,
// and returns the subnets to create and the table's ID: public subnets
// with the default route to the gateway, or with cdn private ones with no
// route out.
func newRouteTable(c constructs.Construct, vpcID *string, cfg networkConfig) ([]subnetPlan, *string) {
	// With cdn too: a VPC origin's VPC must have an internet gateway
	// attached, to receive CloudFront's traffic, although no route table
	// sends anything to it ("Restrict access with VPC origins",
	// prerequisites; see cdn.go).
	igw := internetgateway.NewInternetGateway(c, jsii.String("igw"), &internetgateway.InternetGatewayConfig{
		VpcId: vpcID,
		Tags:  &map[string]*string{"Name": jsii.String("bucketls")},
	})
	if cfg.cdn {
		// Private subnets: no route to the internet, so nothing in them
		// can be reached from it or reach it, whatever a security group
		// says; CloudFront comes in through its own network interfaces.
		rt := routetable.NewRouteTable(c, jsii.String("private-routes"), &routetable.RouteTableConfig{
			VpcId: vpcID,
			Tags:  &map[string]*string{"Name": jsii.String("bucketls-private")},
		})
		return privateSubnets, rt.Id()
	}
	rt := routetable.NewRouteTable(c, jsii.String("public-routes"), &routetable.RouteTableConfig{
		VpcId: vpcID,
		Tags:  &map[string]*string{"Name": jsii.String("bucketls-public")},
	})
	route.NewRoute(c, jsii.String("default-route"), &route.RouteConfig{
		RouteTableId:         rt.Id(),
		DestinationCidrBlock: jsii.String("0.0.0.0/0"),
		GatewayId:            igw.Id(),
	})
	return subnets, rt.Id()
}

// newSubnets creates the planned subnets, one per usable zone in order,
// on the route table, and returns their IDs.
func newSubnets(c constructs.Construct, vpcID, rtID *string, plan []subnetPlan, usable *[]*string) []string {
	var subnetIDs []string
	for i, sn := range plan {
		s := subnet.NewSubnet(c, jsii.String(sn.id), &subnet.SubnetConfig{
			VpcId:            vpcID,
			CidrBlock:        jsii.String(sn.cidr),
			AvailabilityZone: cdktf.Token_AsString(cdktf.Fn_Element(usable, jsii.Number(float64(i))), nil),
			// No automatic public IPs: the instance asks for one itself, so
			// nothing else launched here becomes reachable by accident.
			MapPublicIpOnLaunch: jsii.Bool(false),
			Tags:                &map[string]*string{"Name": jsii.String("bucketls-" + sn.id)},
		})
		routetableassociation.NewRouteTableAssociation(c, jsii.String(sn.id+"-routes"), &routetableassociation.RouteTableAssociationConfig{
			SubnetId:     s.Id(),
			RouteTableId: rtID,
		})
		subnetIDs = append(subnetIDs, *s.Id())
	}
	return subnetIDs
}

// newS3Endpoint creates the S3 gateway endpoint on the route table. It
// costs nothing, keeps S3 traffic on AWS's network, gives the security
// groups a prefix list to name instead of the internet, and lets the
// instance role refuse requests that do not come through it
// (aws:SourceVpce). The route table sends all of the region's S3
// addresses to it, so its policy bounds what anything in these subnets
// can do in S3, even with ssm's internet egress open.
func newS3Endpoint(c constructs.Construct, vpcID, rtID *string, cfg networkConfig) vpcendpoint.VpcEndpoint {
	return vpcendpoint.NewVpcEndpoint(c, jsii.String("s3-endpoint"), &vpcendpoint.VpcEndpointConfig{
		VpcId:           vpcID,
		ServiceName:     jsii.String(serviceName(cfg.partition, cfg.region, "s3")),
		VpcEndpointType: jsii.String("Gateway"),
		RouteTableIds:   &[]*string{rtID},
		Policy:          jsii.String(cfg.s3EndpointPolicy),
		Tags:            &map[string]*string{"Name": jsii.String("bucketls-s3")},
	})
}

// serviceName is the name of the endpoint service of an AWS service
// (such as "s3" or "ssm") in region.
func serviceName(partition, region, service string) string {
	if partition == "aws-cn" {
		return "cn.com.amazonaws." + region + "." + service
	}
	return "com.amazonaws." + region + "." + service
}

// ssmServices are the services Session Manager's agent talks to.
var ssmServices = []string{"ssm", "ssmmessages", "ec2messages"}

// newSSMEndpoints creates an interface endpoint with private DNS for each
// of ssmServices in subnetIDs, so the SSM agent's usual host names resolve
// to addresses in the VPC, and a security group for them that admits
// HTTPS from the VPC only. It returns the group's ID, for the instances'
// egress.
func newSSMEndpoints(scope constructs.Construct, vpcID string, subnetIDs []string, cfg networkConfig) string {
	sg := newSecurityGroup(scope, "ssm-endpoints-sg", "bucketls-ssm-endpoints-", "bucketls Session Manager endpoints: HTTPS in from the VPC", vpcID)
	newSGRule(scope, "ssm-endpoints-https-in", sg, sgRule{kind: "ingress", description: "HTTPS from the VPC",
		port: awsAPIPort, cidrs: []string{vpcCIDR}})
	for _, service := range ssmServices {
		vpcendpoint.NewVpcEndpoint(scope, jsii.String(service+"-endpoint"), &vpcendpoint.VpcEndpointConfig{
			VpcId:             jsii.String(vpcID),
			ServiceName:       jsii.String(serviceName(cfg.partition, cfg.region, service)),
			VpcEndpointType:   jsii.String("Interface"),
			SubnetIds:         jsii.Strings(subnetIDs...),
			SecurityGroupIds:  jsii.Strings(sg),
			PrivateDnsEnabled: jsii.Bool(true),
			Tags:              &map[string]*string{"Name": jsii.String("bucketls-" + service)},
		})
	}
	return sg
}

// newSecurityGroup creates a security group named from namePrefix (its
// Name tag without the final "-"), with no rules of its own: every rule
// is a separate resource (see newSGRule), and Terraform removes the
// allow-all egress AWS adds to a new group. It returns the group's ID.
func newSecurityGroup(scope constructs.Construct, id, namePrefix, description, vpcID string) string {
	return *securitygroup.NewSecurityGroup(scope, jsii.String(id), &securitygroup.SecurityGroupConfig{
		NamePrefix:  jsii.String(namePrefix),
		Description: jsii.String(description),
		VpcId:       jsii.String(vpcID),
		Tags:        &map[string]*string{"Name": jsii.String(strings.TrimSuffix(namePrefix, "-"))},
		// A replacement group must exist before the old one goes, or
		// instances would be left without one.
		Lifecycle: &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	}).Id()
}

// ingressPeers are who may reach the service: allowedCIDRs, or with cdn
// CloudFront's origin-facing prefix list.
type ingressPeers struct {
	cidrs        []string
	prefixListID string
}

// rule returns the ingress rule from p on port, described as description
// and where it comes from.
func (p ingressPeers) rule(description string, port float64) sgRule {
	if p.prefixListID != "" {
		return sgRule{kind: "ingress", description: description + " from CloudFront's origin-facing servers", port: port, prefixListID: p.prefixListID}
	}
	return sgRule{kind: "ingress", description: description + " from allowedCidrs", port: port, cidrs: p.cidrs}
}

// egressPeers are where the instances' HTTPS may go.
type egressPeers struct {
	s3PrefixListID   string // S3, through the gateway endpoint
	ssmEndpointsSGID string // the Session Manager endpoints' group; "" means the internet (with ssm)
}

// newInstanceEgress creates the egress rules of the instances' group sgID,
// with construct IDs starting with idPrefix. HTTPS to S3's prefix list
// (through the gateway endpoint) is all the instances need: the boot
// script's download, the service's listing, and dnf, whose Amazon Linux
// 2023 repositories are S3 buckets. Everything else the OS uses at boot
// is link-local and not filtered by security groups: instance metadata
// and credentials (169.254.169.254), DNS (the VPC resolver,
// 169.254.169.253) and time (Amazon Time Sync, 169.254.169.123).
func newInstanceEgress(scope constructs.Construct, idPrefix, sgID string, to egressPeers, cfg networkConfig) {
	newSGRule(scope, idPrefix+"s3-out", sgID, sgRule{kind: "egress", description: "HTTPS to S3 through the gateway endpoint",
		port: awsAPIPort, prefixListID: to.s3PrefixListID})
	switch {
	case !cfg.ssm:
	case to.ssmEndpointsSGID != "":
		newSGRule(scope, idPrefix+"ssm-endpoints-out", sgID, sgRule{kind: "egress", description: "HTTPS to the Session Manager endpoints in the VPC",
			port: awsAPIPort, peerSGID: to.ssmEndpointsSGID})
	default:
		// Session Manager's public endpoints (ssm, ssmmessages,
		// ec2messages) have no prefix list; ssmEndpoints avoids this
		// rule at an hourly fee.
		newSGRule(scope, idPrefix+"https-out", sgID, sgRule{kind: "egress", description: "HTTPS to the Session Manager endpoints (ssm on)",
			port: awsAPIPort, cidrs: []string{"0.0.0.0/0"}})
	}
}

// newWebSecurityGroup creates the instance's security group: 80 (and 443
// with TLS) in from the allowed CIDRs only, no port 22 (access is through
// SSM), and only HTTPS out, to S3 and, with ssm, to Session Manager. With
// cdn, 80 in from CloudFront's origin-facing servers only: the VPC
// origin's traffic comes from them, and the instance serves CloudFront
// plain HTTP, so no 443.
func newWebSecurityGroup(scope constructs.Construct, id, vpcID string, in ingressPeers, out egressPeers, cfg networkConfig) string {
	c := constructs.NewConstruct(scope, jsii.String(id))
	description := "bucketls: HTTP and HTTPS in from allowedCidrs, HTTPS out to S3 (and SSM)"
	if cfg.cdn {
		description = "bucketls: HTTP in from CloudFront only, HTTPS out to S3 (and the SSM endpoints)"
	}
	sg := newSecurityGroup(c, "sg", "bucketls-web-", description, vpcID)
	newSGRule(c, "http-in", sg, in.rule("HTTP", bootscript.HTTPPort))
	if cfg.tls && !cfg.cdn {
		newSGRule(c, "https-in", sg, in.rule("HTTPS", bootscript.HTTPSPort))
	}
	newInstanceEgress(c, "", sg, out, cfg)
	return sg
}

// newLoadBalancedSecurityGroups creates the two groups of mode "ha" and
// returns their IDs. The load balancer's group admits 80 (and 443 with a
// certificate) from the allowed CIDRs and may only open connections to
// the instances' group on port 80. The instances' group admits port 80
// from the load balancer's group and nothing else: the instances have
// public IPs (for egress without a NAT gateway, see newAutoScaling), but
// no address on the internet can open a connection to them, and no
// client can go around the load balancer. Egress is HTTPS only, as in
// the web group (see newInstanceEgress). The rules that point at the
// other group are separate resources, so the two groups do not depend on
// each other in a cycle.
func newLoadBalancedSecurityGroups(scope constructs.Construct, vpcID string, in ingressPeers, out egressPeers, cfg networkConfig) (lbSGID, instanceSGID string) {
	group := func(id, namePrefix, description string) string {
		return newSecurityGroup(scope, id, namePrefix, description, vpcID)
	}
	lbDescription := "bucketls load balancer: HTTP and HTTPS in from allowedCidrs, HTTP out to the instances"
	if cfg.cdn {
		lbDescription = "bucketls internal load balancer: HTTP in from CloudFront only, HTTP out to the instances"
	}
	lb := group("lb-sg", "bucketls-lb-", lbDescription)
	inst := group("instance-sg", "bucketls-instance-", "bucketls instances: HTTP in from the load balancer only, HTTPS out to S3 (and SSM)")

	// With cdn, as the single instance's group: CloudFront only, port 80.
	newSGRule(scope, "lb-http-in", lb, in.rule("HTTP", bootscript.HTTPPort))
	if cfg.tls && !cfg.cdn {
		newSGRule(scope, "lb-https-in", lb, in.rule("HTTPS", bootscript.HTTPSPort))
	}
	// Requests and health checks, to the instances only.
	newSGRule(scope, "lb-to-instances", lb, sgRule{kind: "egress", description: "HTTP to the bucketls instances", port: bootscript.HTTPPort, peerSGID: inst})
	newSGRule(scope, "instance-http-from-lb", inst, sgRule{kind: "ingress", description: "HTTP from the load balancer only", port: bootscript.HTTPPort, peerSGID: lb})
	newInstanceEgress(scope, "instance-", inst, out, cfg)
	return lb, inst
}

// sgRule is one security group rule: one TCP port, to or from a list of
// CIDRs, another security group (peerSGID) or a managed prefix list.
type sgRule struct {
	kind         string // "ingress" or "egress"
	description  string
	port         float64
	cidrs        []string
	peerSGID     string
	prefixListID string
}

// newSGRule creates r on the group sgID as an aws_security_group_rule: a
// separate resource, not an inline block, because the scanner in the
// tests reads those (it does not know the newer
// aws_vpc_security_group_*_rule resources).
func newSGRule(scope constructs.Construct, id, sgID string, r sgRule) {
	conf := &securitygrouprule.SecurityGroupRuleConfig{
		SecurityGroupId: jsii.String(sgID),
		Type:            jsii.String(r.kind),
		Description:     jsii.String(r.description),
		Protocol:        jsii.String("tcp"),
		FromPort:        jsii.Number(r.port),
		ToPort:          jsii.Number(r.port),
	}
	switch {
	case r.peerSGID != "":
		// For an egress rule this is the destination, despite the name.
		conf.SourceSecurityGroupId = jsii.String(r.peerSGID)
	case r.prefixListID != "":
		conf.PrefixListIds = jsii.Strings(r.prefixListID)
	default:
		conf.CidrBlocks = jsii.Strings(r.cidrs...)
	}
	securitygrouprule.NewSecurityGroupRule(scope, jsii.String(id), conf)
}

// anyList converts a (token) string list for the cdktf functions that take
// lists of any type.
func anyList(l *[]*string) *[]interface{} {
	out := make([]interface{}, len(*l))
	for i, v := range *l {
		out[i] = v
	}
	return &out
}

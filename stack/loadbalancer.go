package stack

import (
	"fmt"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lb"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistener"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtargetgroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
)

// Load balancer settings of mode "ha", each with its reason. Its ports
// and the health check's path are the service's own, where the boot
// script's unit makes it listen (bootscript.HTTPPort, HTTPSPort,
// HealthPath): the load balancer serves HTTP and HTTPS on the ports the
// instances serve them on in mode "single", and sends requests and health
// checks to the instances' HTTPPort.
const (
	// healthCheckInterval, healthyThreshold and unhealthyThreshold: a new
	// instance takes traffic 2 x 10 s after it first answers, and a dead
	// one stops getting it within 3 x 10 s.
	healthCheckInterval = 10
	healthyThreshold    = 2
	unhealthyThreshold  = 3
	healthCheckTimeout  = 5
	// deregistrationDelay is how long a leaving instance (scale-in, instance
	// refresh) keeps finishing its requests before it is terminated. The
	// service answers in well under a second and stops within 30 s of
	// SIGTERM (TimeoutStopSec); the AWS default of 300 s would only slow
	// every deploy down by minutes.
	deregistrationDelay = 30
	// idleTimeout must stay below the service's keep-alive timeout (2
	// minutes, service/run.go): if the service closed an idle connection
	// first, the load balancer could send a request down it and answer 502.
	idleTimeout = 60
	// tlsPolicy is the HTTPS listener's policy: TLS 1.3, and TLS 1.2 with
	// forward-secret AEAD ciphers only (no CBC, no RSA key exchange), what
	// the console picks by default. Its post-quantum successor,
	// ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09, is the next step once it
	// is available in every partition this stack deploys to.
	tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
)

// loadBalancerConfig is what the load balancer needs.
type loadBalancerConfig struct {
	vpcID     string
	subnetIDs []string // one per zone; an ALB needs two zones at least
	sgID      string   // the load balancer's security group
	// certificateARN is an ACM certificate: "" serves HTTP on 80 only;
	// set, the stack serves HTTPS on 443 and redirects 80 to it.
	certificateARN string
	// internal (cdn): the load balancer is CloudFront's VPC origin, in
	// private subnets, with no address on the internet.
	internal bool
}

// loadBalancer is the Application Load Balancer and what the Auto Scaling
// group attaches to.
type loadBalancer struct {
	dnsName        string
	zoneID         string // for alias records
	arn            string // the VPC origin's target, with cdn
	targetGroupARN string
	// listeners must exist before the group waits for healthy instances:
	// a target group runs no health checks until a listener uses it.
	listeners []cdktf.ITerraformDependable
}

// newLoadBalancer creates an internet-facing (with cfg.internal,
// internal) Application Load Balancer in every subnet, a target group of
// instances on the service's HTTP port checked on its health path, and
// the listeners.
//
// Decisions, each with its reason:
//   - Invalid HTTP header fields are dropped, not forwarded: a header that
//     is not a valid token is a request-smuggling vector.
//   - No deletion protection: the stack is meant to be torn down by one
//     command (cdktf destroy / terraform destroy), and the load balancer
//     holds no data; protection would make every teardown fail until
//     someone flips it by hand. What a replacement loses is the DNS name,
//     so put a CNAME or alias in front of it (the certificate needs one
//     anyway).
//   - No access logs: the S3 bucket policy that lets ELB write them names
//     a per-region ELB account in regions older than August 2022 and a
//     service principal in newer ones; getting it wrong fails the whole
//     apply at the load balancer, and nothing here can test it against
//     AWS. Each instance logs every request (method, path, status,
//     duration) to its journal. Turn them on with an access_logs block
//     and a log bucket when request records must outlive instances.
func newLoadBalancer(scope constructs.Construct, id string, cfg loadBalancerConfig) loadBalancer {
	c := constructs.NewConstruct(scope, jsii.String(id))
	alb := newALB(c, cfg)
	tg := newTargetGroup(c, cfg)
	listeners := newListeners(c, cfg, alb.Arn(), tg.Arn())
	return loadBalancer{dnsName: *alb.DnsName(), zoneID: *alb.ZoneId(), arn: *alb.Arn(), targetGroupARN: *tg.Arn(), listeners: listeners}
}

// newALB creates the application load balancer itself.
func newALB(c constructs.Construct, cfg loadBalancerConfig) lb.Lb {
	return lb.NewLb(c, jsii.String("alb"), &lb.LbConfig{
		// A prefix, not a name: names are unique per region and account,
		// and a prefix lets two deployments live side by side. Six
		// characters at most.
		NamePrefix:               jsii.String("bls-"),
		LoadBalancerType:         jsii.String("application"),
		Internal:                 jsii.Bool(cfg.internal),
		IpAddressType:            jsii.String("ipv4"),
		Subnets:                  jsii.Strings(cfg.subnetIDs...),
		SecurityGroups:           jsii.Strings(cfg.sgID),
		DropInvalidHeaderFields:  jsii.Bool(true),
		EnableDeletionProtection: jsii.Bool(false),
		IdleTimeout:              jsii.Number(idleTimeout),
		Tags:                     &map[string]*string{"Name": jsii.String("bucketls")},
	})
}

// newTargetGroup creates the instances' target group, health-checked on
// the service's health path.
func newTargetGroup(c constructs.Construct, cfg loadBalancerConfig) lbtargetgroup.LbTargetGroup {
	return lbtargetgroup.NewLbTargetGroup(c, jsii.String("targets"), &lbtargetgroup.LbTargetGroupConfig{
		NamePrefix:          jsii.String("bls-"),
		TargetType:          jsii.String("instance"),
		Protocol:            jsii.String("HTTP"),
		Port:                jsii.Number(bootscript.HTTPPort),
		VpcId:               jsii.String(cfg.vpcID),
		DeregistrationDelay: jsii.String(fmt.Sprint(deregistrationDelay)),
		HealthCheck: &lbtargetgroup.LbTargetGroupHealthCheck{
			Enabled:            jsii.Bool(true),
			Protocol:           jsii.String("HTTP"),
			Port:               jsii.String("traffic-port"),
			Path:               jsii.String(bootscript.HealthPath),
			Matcher:            jsii.String("200"),
			Interval:           jsii.Number(healthCheckInterval),
			Timeout:            jsii.Number(healthCheckTimeout),
			HealthyThreshold:   jsii.Number(healthyThreshold),
			UnhealthyThreshold: jsii.Number(unhealthyThreshold),
		},
		Tags: &map[string]*string{"Name": jsii.String("bucketls")},
		// Settings such as the port replace the group; the listeners must
		// be able to switch to the new one before the old one goes.
		Lifecycle: &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	})
}

// newListeners creates the HTTP listener, and with a certificate the HTTPS
// one, and returns them for what must wait until traffic can flow.
func newListeners(c constructs.Construct, cfg loadBalancerConfig, albARN, tgARN *string) []cdktf.ITerraformDependable {
	forward := &[]*lblistener.LbListenerDefaultAction{{
		Type:           jsii.String("forward"),
		TargetGroupArn: tgARN,
	}}

	httpAction := forward
	if cfg.certificateARN != "" {
		// With a certificate, plain HTTP only says where HTTPS is. 301:
		// clients and caches may remember it.
		httpAction = &[]*lblistener.LbListenerDefaultAction{{
			Type: jsii.String("redirect"),
			Redirect: &lblistener.LbListenerDefaultActionRedirect{
				Protocol:   jsii.String("HTTPS"),
				Port:       jsii.String(strconv.Itoa(bootscript.HTTPSPort)),
				StatusCode: jsii.String("HTTP_301"),
			},
		}}
	}
	listeners := []cdktf.ITerraformDependable{
		lblistener.NewLbListener(c, jsii.String("http"), &lblistener.LbListenerConfig{
			LoadBalancerArn: albARN,
			Protocol:        jsii.String("HTTP"),
			Port:            jsii.Number(bootscript.HTTPPort),
			DefaultAction:   httpAction,
		}),
	}
	if cfg.certificateARN != "" {
		listeners = append(listeners, lblistener.NewLbListener(c, jsii.String("https"), &lblistener.LbListenerConfig{
			LoadBalancerArn: albARN,
			Protocol:        jsii.String("HTTPS"),
			Port:            jsii.Number(bootscript.HTTPSPort),
			CertificateArn:  jsii.String(cfg.certificateARN),
			SslPolicy:       jsii.String(tlsPolicy),
			DefaultAction:   forward,
		}))
	}
	return listeners
}

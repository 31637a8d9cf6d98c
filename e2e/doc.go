// Package e2e rehearses a deploy without AWS: it boots a real Linux VM from
// the stack's own synthesized user data and artifact, exactly as EC2 would
// run them, and curls the service inside it.
//
// The rehearsal's world stands in for AWS on host loopback: an S3-compatible
// server (gofakes3 over HTTP) holds the artifact and the served bucket, an
// IMDSv2 double hands out a token, instance-profile credentials and the
// region, and a Parameter Store double holds the htpasswd SecureString. QEMU's user-mode network with restrict=on makes the guest's
// link-local network QEMU's own, so the guest reaches the IMDS double at its
// real address, 169.254.169.254, and nothing else but the S3 server and the
// Parameter Store double.
//
// The guest is a small Debian image built from Debian packages (systemd,
// cloud-init, awscli, curl, a kernel). Its cloud-init NoCloud seed carries
// the synthesized user data byte for byte; only Terraform references that
// name generated buckets are replaced, and the test lists each replacement.
// Two things differ from a real instance, because Debian's AWS CLI (2.9)
// ignores AWS_ENDPOINT_URL and the service must find the local S3 server:
//
//   - /usr/bin/aws is a wrapper that adds --endpoint-url for the local S3
//     (or, for its ssm commands, the local Parameter Store);
//   - a systemd drop-in for bucketls.service sets BUCKETLS_S3_ENDPOINT.
//
// A third unit, rehearsal-report.service, only observes: once cloud-final
// has run it writes cloud-init's status and the service's user to a second
// serial port, so the host can check them without a login.
//
// The rehearsal is opt-in (it needs QEMU and about three minutes); see
// TestBootRehearsal. TestDeployToAWS is the opt-in real deploy.
package e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	http_helper "github.com/gruntwork-io/terratest/modules/http-helper"
	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/bucketls/bucketls/stack"
)

// awsEnableVar opts in to the real deploy.
const awsEnableVar = "BUCKETLS_E2E_AWS"

// TestDeployToAWS deploys the synthesized stack to a real AWS account with
// terraform, in seeded-bucket mode, waits until the url output answers the
// reference listing, and destroys everything again, also on failure. It
// uses the AWS credentials of the environment (the provider's default chain)
// and the configuration of cdktf.json and BUCKETLS_* variables, except that
// it always lets the stack create and seed its bucket. With cdn (say
// BUCKETLS_CDN=true BUCKETLS_SSM_ENDPOINTS=true) url is the distribution's
// HTTPS URL, and /metrics must not answer through it.
func TestDeployToAWS(t *testing.T) {
	if os.Getenv(awsEnableVar) != "1" {
		t.Skipf("real AWS deploy is opt-in: set %s=1 with AWS credentials in the environment and terraform (or tofu, as BUCKETLS_TERRAFORM=tofu) on PATH; it creates billable resources for a few minutes and destroys them", awsEnableVar)
	}
	binary := envOr("BUCKETLS_TERRAFORM", "terraform")
	if _, err := exec.LookPath(binary); err != nil {
		t.Fatalf("%s=1 but %s is not on PATH", awsEnableVar, binary)
	}
	cfg, err := stack.LoadConfig(filepath.Join("..", "cdktf.json"), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BucketName = "" // seeded mode: the reference tree is known
	stackDir := synthesize(t, filepath.Join(t.TempDir(), "cdktf.out"), cfg)

	opts := terraform.WithDefaultRetryableErrors(t, &terraform.Options{
		TerraformDir:    stackDir,
		TerraformBinary: binary,
		NoColor:         true,
	})
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	base := strings.TrimSuffix(terraform.Output(t, opts, "url"), "/list-bucket-content")
	// Boot, download, checksum and start take a minute or two on a micro
	// instance; allow ten.
	for path, want := range map[string]string{
		"/list-bucket-content":      `{"content":["dir1","dir2","file1","file2"]}`,
		"/list-bucket-content/dir2": `{"content":["file1","file2"]}`,
	} {
		http_helper.HttpGetWithRetryWithCustomValidation(t, base+path, nil, 60, 10*time.Second,
			func(status int, body string) bool { return status == 200 && strings.TrimSpace(body) == want })
	}
	if cfg.CDN {
		// The distribution's function answers /metrics itself: the
		// service's own metrics stay inside the VPC.
		http_helper.HttpGetWithRetryWithCustomValidation(t, base+"/metrics", nil, 6, 10*time.Second,
			func(status int, _ string) bool { return status == 404 })
	}
}

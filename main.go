// Command bucketls-stack is the CDK for Terraform app of bucketls: `cdktf
// synth` and `go run main.go` run it. It reads the configuration from
// cdktf.json and BUCKETLS_* variables, defines the stack (package stack) and
// writes cdktf.out/stacks/bucketls.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/bucketls/bucketls/stack"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bucketls stack:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := stack.LoadConfig("cdktf.json", os.Getenv)
	if err != nil {
		return err
	}
	if err := stack.CheckNode(); err != nil {
		return err
	}
	defer jsii.Close()
	flags := stack.ContextFlags()
	app := cdktf.NewApp(&cdktf.AppConfig{Context: &flags})
	if _, err := stack.New(app, stack.Name, cfg); err != nil {
		return err
	}
	app.Synth()
	return nil
}

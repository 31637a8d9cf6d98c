// Command bucketls-stack is the CDK for Terraform app of bucketls: `cdktf
// synth` and `go run main.go` run it. It reads the configuration from
// cdktf.json and BUCKETLS_* variables and synthesizes the stack (package
// stack) into the CLI's output directory, cdktf.out/stacks/bucketls.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/bucketls/bucketls/stack"
)

func main() {
	cfg, err := stack.LoadConfig("cdktf.json", os.Getenv)
	if err == nil {
		_, err = stack.Synth("", cfg)
		jsii.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bucketls stack:", err)
		os.Exit(1)
	}
}

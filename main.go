// Command bucketls-stack is the CDK for Terraform app of bucketls: `cdktf
// synth` and `go run main.go` run it. It reads the configuration from
// cdktf.json and BUCKETLS_* variables and synthesizes the stack (package
// stack) into the CLI's output directory, cdktf.out/stacks/bucketls.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/bucketls/bucketls/stack"
)

func main() {
	os.Exit(run("cdktf.json", os.Getenv, os.Stderr))
}

// run synthesizes the stack configured by configFile and getenv and
// returns the exit status: 2 for settings that cannot be used (each named
// on a line of its own, with its fix), as the service exits for a bad
// flag; 1 when synthesis fails.
func run(configFile string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := stack.LoadConfig(configFile, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "bucketls stack:", err)
		return 2
	}
	_, err = stack.Synth("", cfg)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(stderr, "bucketls stack:", err)
		return 1
	}
	return 0
}

// Command bucketls serves GET /list-bucket-content/<path>: the immediate
// children of <path> in one S3 bucket, as JSON. See package service for
// everything it does; this file only turns Run's error into an exit code.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/bucketls/bucketls/service"
)

func main() {
	err := service.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bucketls:", err)
		os.Exit(service.ExitCode(err))
	}
}

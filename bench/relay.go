package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The bare relay is the floor the object route is held to where only the
// machine limits the rate: the least a Go HTTP server can do to pass an
// object from S3 to a client, the SDK's GetObject with its body copied to
// the response by io.Copy. No ranges, validators, safety headers, limits,
// logs or metrics. Relaying a byte costs a read from one socket and a write
// to another whoever does it; what the service spends beyond that is what
// the comparison shows.

// serveRelay serves the bare relay in front of endpoint at a free loopback
// address (GET /<key>), prints its base URL as the first line of stdout,
// and serves until stdin ends, so it never outlives the benchmark that
// started it.
func serveRelay(endpoint string) error {
	client := sdkClient(endpoint)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := client.GetObject(r.Context(), &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(strings.TrimPrefix(r.URL.Path, "/"))})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer out.Body.Close()
		w.Header().Set("Content-Length", strconv.FormatInt(aws.ToInt64(out.ContentLength), 10))
		_, _ = io.Copy(w, out.Body)
	})}
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = srv.Close() }()
	fmt.Println("http://" + ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// relay is the base URL of the bare relay in front of endpoint, in a
// process of its own (this program with -relay), as the service is: the
// two are compared as processes, each with its own scheduler and heap.
func (r *rig) relay(endpoint string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(r.ctx)
	cmd := exec.CommandContext(ctx, self, "-relay", endpoint)
	cmd.Stderr = os.Stderr
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	if err := errors.Join(err1, err2, cmd.Start()); err != nil {
		cancel()
		return "", err
	}
	r.stops = append(r.stops, func() { _ = stdin.Close(); _ = cmd.Wait(); cancel() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("bare relay: no address: %w", err)
	}
	return strings.TrimSpace(line), nil
}

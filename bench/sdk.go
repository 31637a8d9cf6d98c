package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// sdkClient is a stock S3 client for the backend: the SDK's defaults (its
// endpoint rules, its whole middleware stack) with only what any client of
// an S3-compatible server sets (path style, static credentials), the
// service's connection pool size and checksums only when required. It is the
// floor the service's CPU per listing is held against, and the "fetch its
// pages with the SDK" baseline.
func sdkClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// sdkWalk lists prefix with the SDK paginator and checks the entry count.
func sdkWalk(ctx context.Context, client *s3.Client, prefix string, want int) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(benchBucket),
		Prefix:    aws.String(prefix),
		Delimiter: aws.String("/"),
	})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		n += len(out.Contents) + len(out.CommonPrefixes)
	}
	if n != want {
		return fmt.Errorf("listed %d entries under %s, want %d", n, prefix, want)
	}
	return nil
}

// loopReport is what the stock-SDK loop process prints: its load figures
// and the CPU it spent (user + system, the whole process) while loading.
type loopReport struct {
	Requests, Errors int64
	RPS              float64
	P50, P99, CPU    time.Duration
}

// sdkLoop is the stock-SDK floor, run in a process of its own so that its
// CPU is the SDK's alone (the benchmark's process also serves the backend):
// conns goroutines call ListObjectsV2 on a random one of the manyDirs
// directories, after a one-second warm-up, for d. It prints a loopReport as
// JSON on stdout.
func sdkLoop(endpoint string, conns int, d time.Duration) error {
	ctx := context.Background()
	client := sdkClient(endpoint)
	call := func() error {
		_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket:    aws.String(benchBucket),
			Prefix:    aws.String(fmt.Sprintf("many/d%04d/", rand.IntN(manyDirs))),
			Delimiter: aws.String("/"),
		})
		return err
	}
	if err := call(); err != nil {
		return err
	}
	goLoad(ctx, conns, time.Second, call)
	before, err := processCPU()
	if err != nil {
		return err
	}
	r := goLoad(ctx, conns, d, call)
	after, err := processCPU()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(loopReport{
		Requests: r.requests, Errors: r.non2xx, RPS: r.rps, P50: r.p50, P99: r.p99, CPU: after - before,
	})
}

// runSDKLoop runs sdkLoop in a child process (this same program with
// -sdk-loop) and returns its figures as a result.
func runSDKLoop(ctx context.Context, endpoint string, conns int, d time.Duration) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-sdk-loop", endpoint, "-conns", strconv.Itoa(conns), "-d", d.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("stock SDK loop: %v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	var rep loopReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return result{}, fmt.Errorf("stock SDK loop printed %q: %w", out, err)
	}
	if rep.Requests == 0 {
		return result{}, fmt.Errorf("stock SDK loop made no successful call (%d errors)", rep.Errors)
	}
	return result{
		rps: rep.RPS, p50: rep.P50, p99: rep.P99, non2xx: rep.Errors, requests: rep.Requests,
		cpuPerReq: rep.CPU / time.Duration(rep.Requests),
	}, nil
}

// processCPU is the user and system CPU time this process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ), 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// pidCPU is the user and system CPU time process pid has used, from
// /proc/<pid>/stat (fields 14 and 15, counted after the command name,
// which may itself hold spaces and parentheses).
func pidCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad CPU times %q %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

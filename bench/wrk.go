package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// result is one load run.
type result struct {
	rps      float64
	p50, p99 time.Duration
	non2xx   int64
	errors   int64 // socket errors (connect, read, write, timeout)
	requests int64
}

// runWrk runs wrk with two threads (one per core of the reference machine)
// and parses its --latency report.
func runWrk(ctx context.Context, wrk, url string, conns int, d time.Duration) (result, error) {
	threads := min(2, conns)
	cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--timeout", "10s", "--latency", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads the figures out of wrk's text report.
func parseWrk(out string) (result, error) {
	var r result
	var ok bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
			ok = true
		case len(f) == 2 && f[0] == "50%":
			r.p50 = parseWrkDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = parseWrkDuration(f[1])
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			r.requests, _ = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(sc.Text(), "  Non-2xx or 3xx responses:"):
			r.non2xx, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				r.errors += n
			}
		}
	}
	if !ok {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	return r, nil
}

func parseWrkDuration(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return time.Duration(f * float64(u.unit))
			}
		}
	}
	return 0
}

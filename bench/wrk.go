package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runWrk runs wrk with two threads (one per core of the reference machine)
// and parses its --latency report. script, if not empty, is a wrk Lua
// script file; header, if not empty, a request header ("Name: value").
func runWrk(ctx context.Context, wrk, url, script, header string, conns int, d time.Duration) (result, error) {
	threads := min(2, conns)
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--timeout", "10s", "--latency"}
	if script != "" {
		args = append(args, "-s", script)
	}
	if header != "" {
		args = append(args, "-H", header)
	}
	cmd := exec.CommandContext(ctx, wrk, append(args, url)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	return parseWrk(string(out))
}

// randomPathScript writes a wrk script that requests pathFormat (a Lua
// string.format pattern with one %d) for a random directory number in
// [0, n), with a different random sequence in each wrk thread, so
// concurrent requests rarely ask for the same listing.
func randomPathScript(dir, name, pathFormat string, n int) (string, error) {
	script := fmt.Sprintf(`local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  math.randomseed(os.time() + 7919 * id)
end
function request()
  return wrk.format("GET", string.format(%q, math.random(0, %d)))
end
`, pathFormat, n-1)
	path := filepath.Join(dir, name+".lua")
	return path, os.WriteFile(path, []byte(script), 0o644)
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

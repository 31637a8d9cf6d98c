package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// svcProc is one bucketls process under test.
type svcProc struct {
	cmd  *exec.Cmd
	base string

	mu       sync.Mutex
	gcStarts []float64 // heap size at each GC start, from GODEBUG=gctrace=1, in MB
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// serviceEnv configures bucketls the way the deployed unit does, through
// the environment, pointed at the benchmark backend with dummy credentials.
func serviceEnv(endpoint, addr string, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"BUCKETLS_BUCKET=" + benchBucket,
		"BUCKETLS_S3_ENDPOINT=" + endpoint,
		"BUCKETLS_ADDR=" + addr,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=bench",
		"AWS_SECRET_ACCESS_KEY=bench",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
	return append(env, extra...)
}

// startService starts bin and waits until /readyz answers 200. Its JSON log
// goes to /dev/null: it is written as in production, nobody reads it here.
func startService(bin, endpoint string, gctrace bool, extra ...string) (*svcProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &svcProc{cmd: exec.Command(bin), base: "http://" + addr}
	env := serviceEnv(endpoint, addr, extra...)
	if gctrace {
		env = append(env, "GODEBUG=gctrace=1")
		stderr, err := s.cmd.StderrPipe()
		if err != nil {
			return nil, err
		}
		go s.readGCTrace(stderr)
	}
	s.cmd.Env = env
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	if _, _, err := waitUp(s.base, time.Now(), 10*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// gcLine matches gctrace's "A->B->C MB": heap at GC start, at GC end, live.
var gcLine = regexp.MustCompile(`(\d+(?:\.\d+)?)->(\d+(?:\.\d+)?)->(\d+(?:\.\d+)?) MB`)

func (s *svcProc) readGCTrace(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := gcLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		start, _ := strconv.ParseFloat(m[1], 64)
		s.mu.Lock()
		s.gcStarts = append(s.gcStarts, start)
		s.mu.Unlock()
	}
}

// gcCount is how many GCs have been reported so far.
func (s *svcProc) gcCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.gcStarts)
}

// gcPeakSince is the largest heap at a GC start among the GCs after the
// first n, and how many there were.
func (s *svcProc) gcPeakSince(n int) (peakMB float64, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.gcStarts[n:] {
		peakMB = max(peakMB, v)
	}
	return peakMB, len(s.gcStarts) - n
}

func (s *svcProc) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux:
// writing 5 to clear_refs), so each run reports its own peak.
func (s *svcProc) resetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

// rssKiB reads VmHWM (peak) or VmRSS (current) in KiB.
func (s *svcProc) rssKiB(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
}

// waitUp polls /healthz and then /readyz every millisecond and returns how
// long after start each first answered 200.
func waitUp(base string, start time.Time, timeout time.Duration) (healthy, ready time.Duration, err error) {
	client := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, path := range []string{"/healthz", "/readyz"} {
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if ctx.Err() != nil {
				return 0, 0, fmt.Errorf("%s%s not 200 within %s", base, path, timeout)
			}
			time.Sleep(time.Millisecond)
		}
		if path == "/healthz" {
			healthy = time.Since(start)
		} else {
			ready = time.Since(start)
		}
	}
	client.CloseIdleConnections()
	return healthy, ready, nil
}

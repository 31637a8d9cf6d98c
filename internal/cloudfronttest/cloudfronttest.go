// Package cloudfronttest runs a CloudFront Function under Node.js for
// tests: the function's own tests (stack/internal/edgefunc) and the e2e
// test that holds it to the service's rule both call it, so they run the
// function the same way, and the way CloudFront does.
package cloudfronttest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// harness runs the function's code in a fresh V8 context that has only
// the language's own globals (no require, process, console or timers), as
// CloudFront Functions run it, and calls handler once per event read from
// stdin (a JSON list), printing the results as a JSON list.
const harness = `
const vm = require('vm');
const fs = require('fs');
const path = require('path');
const code = fs.readFileSync(process.argv[2], 'utf8');
const handler = vm.runInNewContext(code + '\n;handler', {}, {filename: path.basename(process.argv[2])});
const events = JSON.parse(fs.readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(events.map((e) => handler(e))));
`

// Run calls the handler of the function in the JavaScript file script once
// for each of events and decodes the list of what it returned into results
// (a pointer to a slice). Without Node.js the test is skipped, except
// under CI (CI set), where it fails: CI must not pass a function it never
// ran.
func Run(t testing.TB, script string, events, results any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node.js not found: CloudFront Function tests run the function under it")
		}
		t.Skip("node.js not found; CloudFront Function tests run the function under it")
	}
	h := filepath.Join(t.TempDir(), "harness.js")
	if err := os.WriteFile(h, []byte(harness), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, h, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, results); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

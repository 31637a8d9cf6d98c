package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// minNodeMajor is the oldest Node.js that CDKTF 0.20 supports.
const minNodeMajor = 18

var nodeVersionRE = regexp.MustCompile(`^v([0-9]+)\.`)

// CheckNode reports whether the jsii runtime that synthesis needs can start:
// it looks for the Node.js binary the runtime will use ($JSII_NODE, else
// "node" on PATH) and checks its version. Call it before cdktf.NewApp: once
// the runtime has failed to start, jsii only panics. It returns nil when
// JSII_RUNTIME names a custom runtime command, which it cannot inspect.
func CheckNode() error {
	if os.Getenv("JSII_RUNTIME") != "" {
		return nil
	}
	node := os.Getenv("JSII_NODE")
	if node == "" {
		node = "node"
	}
	path, err := exec.LookPath(node)
	if err != nil {
		return fmt.Errorf("node.js not found (%v): CDKTF synthesis runs the jsii runtime on Node.js %d or newer; "+
			"install it (e.g. apt-get install nodejs) or set JSII_NODE to the node binary", err, minNodeMajor)
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(exitErr.Stderr)))
		}
		return fmt.Errorf("node.js at %s does not run: %w", path, err)
	}
	version := strings.TrimSpace(string(out))
	m := nodeVersionRE.FindStringSubmatch(version)
	if m == nil {
		return fmt.Errorf("node.js at %s reports version %q, which is not vX.Y.Z", path, version)
	}
	if major, _ := strconv.Atoi(m[1]); major < minNodeMajor {
		return fmt.Errorf("node.js at %s is %s: CDKTF synthesis needs Node.js %d or newer; "+
			"install a newer one or set JSII_NODE to it", path, version, minNodeMajor)
	}
	return nil
}

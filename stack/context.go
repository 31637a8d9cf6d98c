package stack

import "maps"

// Name is the id of the one stack; cdktf writes it to <outdir>/stacks/bucketls.
// Renaming it moves the synthesized files and the Terraform state directory.
const Name = "bucketls"

// contextFlags are the CDKTF library context flags; see ContextFlags.
var contextFlags = map[string]any{
	// Warnings and errors recorded during synthesis carry no Node.js stack
	// trace, so manifest.json does not change with the machine's paths.
	"@cdktf/disable_stack_trace_in_metadata": true,
}

// ContextFlags returns the CDKTF library context flags that cdktf.json sets
// and that every app synthesizing this stack must set too (main.go, the
// tests, the boot rehearsal), so all of them write the same files:
//
//	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: dir, Context: &flags})
//
// CDKTF 0.20 derives logical IDs (resource names) from construct paths alone
// and has no future flags, so none of these changes a resource name; the map
// holds the flags that change other output. A test checks that cdktf.json
// agrees. The map is a fresh copy on each call.
func ContextFlags() map[string]any {
	return maps.Clone(contextFlags)
}

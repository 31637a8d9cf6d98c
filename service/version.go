package service

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// linkedVersion is the version the deploy build stamps with the linker's
// -X flag (package gobuild's VersionSymbol names it). It is the package's
// one variable because -X can set nothing else; empty in any other build.
var linkedVersion string

// Version is what this binary reports as its version (--version, the
// "serving" log line, bucketls_build_info): the one the deploy build
// stamped (a hash of the sources, see package gobuild), else the module
// version go install records, else the VCS revision go build records, else
// "devel" (a test binary, or a build without VCS information).
func Version() string {
	bi, _ := debug.ReadBuildInfo() // nil when the binary has none
	return version(linkedVersion, bi)
}

// version is [Version] for a given stamp and build information (nil when
// the binary has none).
func version(linked string, bi *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if bi == nil {
		return "devel"
	}
	// Since Go 1.24 go build also sets the main module's version from VCS
	// (a tag or a pseudo-version, "+dirty" for uncommitted changes).
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch {
	case revision == "":
		return "devel"
	case modified:
		return revision + "+dirty" // not the commit: it has changes on top
	default:
		return revision
	}
}

// versionLine is what --version prints, as go version does: the version,
// then the toolchain and platform, which change the bytes too.
func versionLine() string {
	return "bucketls " + Version() + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// newBuildInfo is the bucketls_build_info gauge: always 1, its labels say
// which build answers, so a dashboard can tell a fleet's versions apart.
func newBuildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "bucketls_build_info",
		Help:        "Always 1; the labels name the build: version (see bucketls --version) and the Go toolchain.",
		ConstLabels: prometheus.Labels{"version": Version(), "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}

// Package viewcap is the bound on --view-cap that bucketls's service
// applies and its stack (setting viewCap) validates: how many entries a
// sorted or filtered listing (sort=, match=) may read from one directory.
// It is a leaf: it imports neither side, so a deploy the stack accepts is
// one the service starts with.
package viewcap

import "fmt"

const (
	// Default is --view-cap's default: a directory of 10,000 entries is 10
	// S3 pages, read in about as long as an unsorted listing of it streams,
	// and held as about 1.5 MiB while it is sorted.
	Default = 10_000
	// Max bounds --view-cap: a view is held whole while it is built (about
	// 150 bytes an entry, so 150 MiB at the bound).
	Max = 1_000_000
)

// Check returns an error when n is not a cap the service takes.
func Check(n int) error {
	if n < 1 || n > Max {
		return fmt.Errorf("%d is not a whole number from 1 to %d", n, Max)
	}
	return nil
}

// Package s3nametest holds the examples of s3name's rules that the tests
// of both sides check: s3name's own, and the stack's, which must accept
// for bucketName exactly the names the service accepts for --bucket.
package s3nametest

import "strings"

// Bucket is a name and whether it can be a bucket.
type Bucket struct {
	Name string
	OK   bool
}

// Buckets returns today's names, legacy names that still exist (us-east-1
// before March 2018: capitals, underscores, up to 255 characters), and
// what can never be a bucket. A function, not a variable, so no test can
// change what the next one gets.
func Buckets() []Bucket {
	return []Bucket{
		{"my-bucket", true}, {"My_Legacy_Bucket", true}, {"UPPER.case-and_underscore", true}, {"a.b-c_d", true},
		{"my..bucket", true}, {"192.168.1.1", true}, {"abc", true}, {strings.Repeat("b", 255), true},
		{"ab", false}, {strings.Repeat("b", 256), false}, {"_leading", false}, {"trailing-", false},
		{"s3://my-bucket", false}, {"arn:aws:s3:::my-bucket", false}, {"my bucket", false}, {"my/bucket", false},
	}
}

package service

import (
	"errors"
	"strings"
)

// maxRootPrefixLen bounds --root-prefix. S3 keys are at most 1,024 bytes;
// half of that for the prefix still leaves room for real paths below it.
const maxRootPrefixLen = 512

// checkRootPrefix validates a --root-prefix value with the rules of a
// listing path, because it becomes the start of every key the service may
// list: no slash at either end (the lister adds the one separator), no
// empty or dot segments (S3 has no path semantics, so "a/../b" would be a
// distinct, surprising key prefix, not "b"), no control characters, valid
// UTF-8 and bounded length. The empty string means the whole bucket.
func checkRootPrefix(p string) error {
	switch {
	case p == "":
		return nil
	case len(p) > maxRootPrefixLen:
		return errors.New("longer than 512 bytes")
	case strings.HasPrefix(p, "/"):
		return errors.New("starts with a slash")
	case strings.HasSuffix(p, "/"):
		return errors.New("ends with a slash")
	}
	if err := checkSegments(p); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "invalid path: "))
	}
	return nil
}

// rootKey is the key prefix a validated root prefix stands for: "" for the
// whole bucket, otherwise the prefix and its separator.
func rootKey(rootPrefix string) string {
	if rootPrefix == "" {
		return ""
	}
	return rootPrefix + "/"
}

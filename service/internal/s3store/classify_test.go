package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/bucketls/bucketls/service/internal/listing"
)

// TestClassify checks the SDK error mapping directly, for codes the fake
// servers above do not produce.
func TestClassify(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	tests := []struct {
		err  error
		want error
	}{
		{api("NoSuchBucket"), listing.ErrBucketUnavailable},
		{api("InvalidAccessKeyId"), listing.ErrBucketUnavailable},
		{api("ExpiredToken"), listing.ErrBucketUnavailable},
		{api("SlowDown"), listing.ErrThrottled},
		{api("RequestLimitExceeded"), listing.ErrThrottled},
		{api("RequestTimeout"), listing.ErrTimeout},
		{api("InternalError"), listing.ErrUpstream},
		{fmt.Errorf("op: %w", context.DeadlineExceeded), listing.ErrTimeout},
		{fmt.Errorf("op: %w", context.Canceled), context.Canceled},
		{&net.OpError{Op: "dial", Err: timeoutErr{}}, listing.ErrTimeout},
		{errors.New("no EC2 IMDS role found"), listing.ErrUpstream},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Temporary() bool { return true }
func (timeoutErr) Timeout() bool   { return true }

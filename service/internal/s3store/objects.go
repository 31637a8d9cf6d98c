package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/bucketls/bucketls/service/internal/listing"
)

// objectAPI is what reading objects needs of a client: *s3.Client has it.
type objectAPI interface {
	s3.HeadObjectAPIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// objectClient is the client objects are read with: client itself when it
// can, with the decode gate taken out. The gate bounds how many listing
// answers are decoded at once; an object's body is not decoded but
// streamed for as long as its client reads, so through the gate 64
// downloads would take turns in four slots. Nil when client cannot read
// objects at all (a test's listing-only fake).
func objectClient(client s3.ListObjectsV2APIClient) objectAPI {
	c, ok := client.(*s3.Client)
	if !ok {
		api, _ := client.(objectAPI)
		return api
	}
	opts := c.Options()
	g, ok := opts.HTTPClient.(*decodeGate)
	if !ok {
		return c
	}
	opts.HTTPClient = g.next
	return s3.New(opts)
}

// errNoObjectAPI is the answer of a lister whose client lists only.
var errNoObjectAPI = errors.New("this S3 client cannot read objects")

// errStorageStalled is why an object read was cancelled: S3 sent nothing
// for the call timeout.
var errStorageStalled = errors.New("storage sent nothing for the call timeout")

// objectKey is the S3 key of path; a path that is empty or ends in "/" is
// a directory and names no object.
func (l *Lister) objectKey(op, path string) (string, error) {
	if l.objects == nil {
		return "", fmt.Errorf("%s %q: %w: %v", op, path, listing.ErrUpstream, errNoObjectAPI)
	}
	if path == "" || strings.HasSuffix(path, "/") {
		return "", fmt.Errorf("%s %q: a directory: %w", op, path, listing.ErrNotFound)
	}
	// Every key starts with the root: no path can name a key outside it
	// (S3 resolves no dot segments; the HTTP side refuses them anyway).
	return l.root + path, nil
}

// StatObject implements [listing.ObjectReader] with one HeadObject call,
// bounded by the call timeout.
func (l *Lister) StatObject(ctx context.Context, path string) (listing.Object, error) {
	key, err := l.objectKey("head", path)
	if err != nil {
		return listing.Object{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, l.callTimeout)
	defer cancel()
	listing.CountCall(ctx)
	out, err := l.objects.HeadObject(cctx, &s3.HeadObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(key)})
	l.m.observeObject("head", err)
	if err != nil {
		return listing.Object{}, objectError("head", path, err, false)
	}
	size := aws.ToInt64(out.ContentLength)
	return listing.Object{
		Size:            size,
		Modified:        aws.ToTime(out.LastModified),
		ETag:            aws.ToString(out.ETag),
		ContentType:     aws.ToString(out.ContentType),
		ContentEncoding: aws.ToString(out.ContentEncoding),
		Length:          size,
	}, nil
}

// ReadObject implements [listing.ObjectReader] with one GetObject call
// for exactly the bytes asked for: the range reaches S3, so the last byte
// of a large object costs what a small object does. S3 gets the call
// timeout to send the headers and again for every read of the body, so
// a stalled S3 connection ends the read while a slow client that keeps
// reading can take as long as it needs.
func (l *Lister) ReadObject(ctx context.Context, req listing.ObjectRead) (listing.Object, io.ReadCloser, error) {
	key, err := l.objectKey("get", req.Path)
	if err != nil {
		return listing.Object{}, nil, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(key), Range: rangeHeader(req)}
	if req.IfMatch != "" {
		in.IfMatch = aws.String(req.IfMatch)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(l.callTimeout, func() { cancel(errStorageStalled) })
	listing.CountCall(ctx)
	out, err := l.objects.GetObject(cctx, in)
	l.m.observeObject("get", err)
	if err != nil {
		stalled := errors.Is(context.Cause(cctx), errStorageStalled)
		timer.Stop()
		cancel(nil)
		return listing.Object{}, nil, objectError("get", req.Path, err, stalled)
	}
	obj, err := objectOf(out)
	if err != nil {
		timer.Stop()
		cancel(nil)
		out.Body.Close()
		return listing.Object{}, nil, fmt.Errorf("get %q: %w: %v", req.Path, listing.ErrUpstream, err)
	}
	timer.Reset(l.callTimeout)
	return obj, &objectBody{body: out.Body, ctx: cctx, cancel: cancel, timer: timer, timeout: l.callTimeout, path: req.Path, left: obj.Length}, nil
}

// rangeHeader is the Range of a GetObject call for req; nil for the whole
// object.
func rangeHeader(req listing.ObjectRead) *string {
	switch {
	case req.Suffix > 0:
		return aws.String("bytes=-" + strconv.FormatInt(req.Suffix, 10))
	case req.Length > 0:
		return aws.String("bytes=" + strconv.FormatInt(req.Offset, 10) + "-" + strconv.FormatInt(req.Offset+req.Length-1, 10))
	case req.Offset > 0:
		return aws.String("bytes=" + strconv.FormatInt(req.Offset, 10) + "-")
	}
	return nil
}

// objectOf reads what a GetObject answer says about the object and the
// bytes its body holds.
func objectOf(out *s3.GetObjectOutput) (listing.Object, error) {
	o := listing.Object{
		Modified:        aws.ToTime(out.LastModified),
		ETag:            aws.ToString(out.ETag),
		ContentType:     aws.ToString(out.ContentType),
		ContentEncoding: aws.ToString(out.ContentEncoding),
		Length:          aws.ToInt64(out.ContentLength),
	}
	o.Size = o.Length
	if cr := aws.ToString(out.ContentRange); cr != "" {
		var err error
		if o.Offset, o.Size, err = parseContentRange(cr, o.Length); err != nil {
			return o, err
		}
	}
	if o.Length < 0 || out.ContentLength == nil {
		return o, errors.New("answer without a Content-Length")
	}
	return o, nil
}

// parseContentRange reads "bytes first-last/size" and checks that it
// agrees with the body's length.
func parseContentRange(cr string, length int64) (offset, size int64, err error) {
	spec, ok := strings.CutPrefix(cr, "bytes ")
	span, total, ok2 := strings.Cut(spec, "/")
	first, last, ok3 := strings.Cut(span, "-")
	if ok && ok2 && ok3 {
		offset, err = strconv.ParseInt(first, 10, 64)
		end, err2 := strconv.ParseInt(last, 10, 64)
		size, err3 := strconv.ParseInt(total, 10, 64)
		if err == nil && err2 == nil && err3 == nil && offset >= 0 && end >= offset && end < size && end-offset+1 == length {
			return offset, size, nil
		}
	}
	return 0, 0, fmt.Errorf("Content-Range %q does not describe a body of %d bytes", cr, length)
}

// objectBody is a GetObject body that renews its call timeout on every
// read, turns errors into domain errors, and reports a body that ends
// before its Content-Length as an error rather than an end.
type objectBody struct {
	body    io.ReadCloser
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
	path    string
	left    int64
	once    sync.Once
}

// Read implements io.Reader.
func (b *objectBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.left -= int64(n)
	switch {
	case err == nil:
		b.timer.Reset(b.timeout)
		return n, nil
	case err == io.EOF && b.left == 0:
		return n, io.EOF
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	return n, objectError("read", b.path, err, errors.Is(context.Cause(b.ctx), errStorageStalled))
}

// Close implements io.Closer: it ends the call, read to the end or not.
func (b *objectBody) Close() error {
	b.once.Do(func() {
		b.timer.Stop()
		b.cancel(nil)
	})
	return b.body.Close()
}

// objectError turns an SDK error of an object call into a domain error;
// stalled says the call timeout cancelled it. As in [Lister.fail], the
// SDK's text stays in the message for the log, its types stay here.
func objectError(op, path string, err error, stalled bool) error {
	kind := classifyObject(err)
	if stalled {
		kind = listing.ErrTimeout
	}
	return fmt.Errorf("%s %q: %w: %v", op, path, kind, err)
}

// classifyObject is classify for object calls, where a 404 is a missing
// key (a HEAD answer has no body to say NoSuchBucket) and two answers
// only object calls get have their own meaning.
func classifyObject(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return listing.ErrNotFound
		case "InvalidRange":
			return listing.ErrRangeNotSatisfiable
		case "PreconditionFailed":
			return listing.ErrObjectChanged
		case "NoSuchBucket":
			return listing.ErrBucketUnavailable
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch respErr.HTTPStatusCode() {
		case 404:
			return listing.ErrNotFound
		case 416:
			return listing.ErrRangeNotSatisfiable
		case 412:
			return listing.ErrObjectChanged
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return listing.ErrUpstream
	}
	return classify(err)
}

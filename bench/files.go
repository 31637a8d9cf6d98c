package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
)

// The object route of --serve-objects (issue 21) is measured on objects
// of its own, made on the fly by a backend of their own (objectsBackend):
// a 256 MiB one for the rate of one download, a 64 MiB one that 64
// clients download at once for memory, a 1 KiB one for the time to the
// first byte, and a 1-byte one for what a ranged read of the last byte of
// the large one should cost.
var benchObjects = []struct {
	key  string
	size int64
}{
	{bigObject, 256 << 20},
	{midObject, 64 << 20},
	{smallObject, 1 << 10},
	{oneByteObject, 1},
}

// Keys of the objects, under objects/ in the bucket.
const (
	bigObject     = "objects/big.bin"
	midObject     = "objects/64m.bin"
	smallObject   = "objects/small.bin"
	oneByteObject = "objects/one.bin"
)

// Row names of the object route, read by the checks and the summary.
const (
	filesSmall        = "files    1 KiB object"
	filesSmallBackend = "backend  1 KiB object (GetObject)"
	filesMid          = "files    64 MiB object downloads"
)

// filesEnv turns the object route on.
const filesEnv = "BUCKETLS_SERVE_OBJECTS=true"

// objectsBackend holds benchObjects. Their bytes repeat one pattern, so
// the backend serves any range of them at memory speed without holding
// them: the service and its client, not the backend, are what is measured.
func objectsBackend() gofakes3.Backend {
	sizes := map[string]int64{}
	keys := make([]string, 0, len(benchObjects))
	for _, o := range benchObjects {
		sizes[o.key] = o.size
		keys = append(keys, o.key)
	}
	b := newSortedBackend(benchBucket, keys)
	b.size = func(key string) int64 { return sizes[key] }
	return &generatedObjects{sortedBackend: b, sizes: sizes}
}

// generatedObjects answers GetObject and HeadObject for its listed keys;
// the rest of gofakes3.Backend is sortedBackend's.
type generatedObjects struct {
	*sortedBackend
	sizes map[string]int64
}

// objectPattern is what every generated object repeats.
var objectPattern = func() []byte {
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(i*7 + i>>11)
	}
	return p
}()

// GetObject implements gofakes3.Backend for a range of a generated object.
func (b *generatedObjects) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	obj, err := b.HeadObject(bucket, key)
	if err != nil {
		return nil, err
	}
	r, err := rng.Range(obj.Size)
	if err != nil {
		return nil, err
	}
	start, n := int64(0), obj.Size
	if r != nil {
		start, n = r.Start, r.Length
	}
	obj.Range = r
	obj.Contents = io.NopCloser(io.LimitReader(&patternReader{pos: start}, n))
	return obj, nil
}

// HeadObject implements gofakes3.Backend.
func (b *generatedObjects) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	size, ok := b.sizes[key]
	if bucket != b.bucket || !ok {
		return nil, gofakes3.KeyNotFound(key)
	}
	return &gofakes3.Object{
		Name: key, Size: size, Hash: []byte(key),
		Metadata: map[string]string{"Content-Type": "application/octet-stream", "Last-Modified": b.created.UTC().Format(http.TimeFormat)},
		Contents: io.NopCloser(eofReader{}),
	}, nil
}

// patternReader reads objectPattern over and over from pos.
type patternReader struct{ pos int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	n := copy(b, objectPattern[p.pos%int64(len(objectPattern)):])
	p.pos += int64(n)
	return n, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// filesService is the service with --serve-objects over the objects
// backend.
func (r *rig) filesService() (*svcProc, string, error) {
	endpoint, err := r.backend("objects", objectsBackend)
	if err != nil {
		return nil, "", err
	}
	svc, err := r.serviceAt(endpoint, filesEnv)
	return svc, endpoint, err
}

// fileGet GETs key through the object route, with wrk.
func fileGet(key string) setup {
	return func(r *rig) (target, error) {
		svc, _, err := r.filesService()
		if err != nil {
			return target{}, err
		}
		return target{url: svc.base + "/files/" + key, svc: svc}, nil
	}
}

// backendObject GETs key straight from the objects backend, with wrk: an
// unsigned GetObject.
func backendObject(key string) setup {
	return func(r *rig) (target, error) {
		endpoint, err := r.backend("objects", objectsBackend)
		return target{url: endpoint + "/" + benchBucket + "/" + key}, err
	}
}

// fileDownload downloads key whole through the object route, each client
// one download after another (the Go load generator: wrk would keep the
// bodies' bytes only to count them).
func fileDownload(key string) setup {
	return func(r *rig) (target, error) {
		svc, _, err := r.filesService()
		if err != nil {
			return target{}, err
		}
		url := svc.base + "/files/" + key
		return target{svc: svc, walk: func() error { return fetch(r.walker, url) }}, nil
	}
}

// fileTimes are the object route's figures, one request at a time:
//   - bigRate and bigRateSDK: bytes/s downloading the 256 MiB object
//     through the service and straight from the backend with the AWS
//     SDK's GetObject (medians of 9, taking turns);
//   - ttfb and ttfbSDK: the time to the first byte of the 1 KiB object,
//     the same two ways (medians of 201);
//   - lastByte and oneByte: the last byte of the 256 MiB object by range,
//     and the 1-byte object, through the service (medians of 101).
type fileTimes struct {
	bigRate, bigRateSDK float64
	ttfb, ttfbSDK       time.Duration
	lastByte, oneByte   time.Duration
}

// timeFiles measures fileTimes.
func timeFiles(r *rig) (fileTimes, error) {
	var ft fileTimes
	svc, endpoint, err := r.filesService()
	if err != nil {
		return ft, err
	}
	sdk := sdkClient(endpoint)
	files := svc.base + "/files/"
	big := benchObjects[0].size
	times, err := mediansTimed(9,
		timed(func() error { return fetchN(r.walker, files+bigObject, nil, big) }),
		timed(func() error { return sdkGetN(r.ctx, sdk, bigObject, big) }),
	)
	if err != nil {
		return ft, err
	}
	ft.bigRate, ft.bigRateSDK = float64(big)/times[0].Seconds(), float64(big)/times[1].Seconds()
	times, err = mediansTimed(201,
		func() (time.Duration, error) { return firstByte(r.walker, files+smallObject) },
		func() (time.Duration, error) { return sdkFirstByte(r.ctx, sdk, smallObject) },
	)
	if err != nil {
		return ft, err
	}
	ft.ttfb, ft.ttfbSDK = times[0], times[1]
	times, err = mediansTimed(101,
		timed(func() error { return fetchN(r.walker, files+bigObject, http.Header{"Range": {"bytes=-1"}}, 1) }),
		timed(func() error { return fetchN(r.walker, files+oneByteObject, nil, 1) }),
	)
	if err != nil {
		return ft, err
	}
	ft.lastByte, ft.oneByte = times[0], times[1]
	return ft, nil
}

// fetchN GETs url with header and checks that exactly n body bytes came.
func fetchN(client *http.Client, url string, header http.Header, n int64) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if header != nil {
		req.Header = header
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.Copy(io.Discard, resp.Body)
	switch {
	case err != nil:
		return err
	case resp.StatusCode/100 != 2 || got != n:
		return fmt.Errorf("GET %s: status %d, %d bytes, want %d", url, resp.StatusCode, got, n)
	}
	return nil
}

// sdkGetN reads key whole from the backend with the SDK's GetObject.
func sdkGetN(ctx context.Context, client *s3.Client, key string, n int64) error {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	got, err := io.Copy(io.Discard, out.Body)
	if err == nil && got != n {
		err = fmt.Errorf("GetObject %s: %d bytes, want %d", key, got, n)
	}
	return err
}

// firstByte is the time from sending a GET of url to its first body byte.
func firstByte(client *http.Client, url string) (time.Duration, error) {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return untilFirstByte(start, resp.Body)
}

// sdkFirstByte is the time from calling GetObject for key to the first
// byte of its body.
func sdkFirstByte(ctx context.Context, client *s3.Client, key string) (time.Duration, error) {
	start := time.Now()
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	return untilFirstByte(start, out.Body)
}

// untilFirstByte reads body's first byte, then the rest (so the
// connection is reused), and returns the time from start to that byte.
func untilFirstByte(start time.Time, body io.Reader) (time.Duration, error) {
	var one [1]byte
	if _, err := io.ReadFull(body, one[:]); err != nil {
		return 0, errors.Join(errors.New("no first byte"), err)
	}
	d := time.Since(start)
	_, err := io.Copy(io.Discard, body)
	return d, err
}

// filesLine is the summary's line of the object route.
func filesLine(ft fileTimes, mid result) string {
	return fmt.Sprintf("--serve-objects: 256 MiB in one download (median of 9): %.0f MiB/s through the service, %.0f MiB/s straight from the backend with the SDK (%.0f%%); "+
		"1 KiB object, time to the first byte (median of 201): %s through the service, %s with the SDK (+%s); last byte of 256 MiB by range %s, a 1-byte object %s (median of 101); "+
		"64 clients downloading 64 MiB each: %.0f MiB/s in all, peak RSS %.1f MiB",
		ft.bigRate/(1<<20), ft.bigRateSDK/(1<<20), 100*ft.bigRate/ft.bigRateSDK,
		ms(ft.ttfb), ms(ft.ttfbSDK), ms(ft.ttfb-ft.ttfbSDK), ms(ft.lastByte), ms(ft.oneByte),
		mid.rps*float64(benchObjects[1].size)/(1<<20), float64(mid.peakKiB)/1024)
}

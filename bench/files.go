package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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

// s3FlowRate is the most one download from S3 can be given on a deployed
// instance, in bytes per second: "Bandwidth for single-flow traffic is
// limited to 5 Gbps when instances are not in the same cluster placement
// group" (Amazon EC2 instance network bandwidth,
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-network-bandwidth.html),
// and a GetObject body is one TCP flow.
const s3FlowRate = 5e9 / 8

// objectsBackend holds benchObjects, each body at most rate bytes per
// second (0: as fast as the machine goes). Their bytes repeat one
// pattern, so the backend serves any range of them without holding them:
// the service and its client, not the backend, are what is measured.
func objectsBackend(rate float64) func() gofakes3.Backend {
	return func() gofakes3.Backend {
		sizes := map[string]int64{}
		keys := make([]string, 0, len(benchObjects))
		for _, o := range benchObjects {
			sizes[o.key] = o.size
			keys = append(keys, o.key)
		}
		b := newSortedBackend(benchBucket, keys)
		b.size = func(key string) int64 { return sizes[key] }
		return &generatedObjects{sortedBackend: b, sizes: sizes, rate: rate}
	}
}

// generatedObjects answers GetObject and HeadObject for its listed keys;
// the rest of gofakes3.Backend is sortedBackend's.
type generatedObjects struct {
	*sortedBackend
	sizes map[string]int64
	rate  float64 // bytes per second of each body; 0: unpaced
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
	var body io.Reader = io.LimitReader(&patternReader{pos: start}, n)
	if b.rate > 0 {
		body = &pacedReader{r: body, rate: b.rate}
	}
	obj.Contents = io.NopCloser(body)
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

// pacedReader reads r at rate bytes per second on average, from its first
// read: it sleeps after a read that got ahead of that schedule, as a
// network link would hold the bytes back.
type pacedReader struct {
	r     io.Reader
	rate  float64
	start time.Time
	n     int64 // bytes read so far
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	due := p.start.Add(time.Duration(float64(p.n) / p.rate * float64(time.Second)))
	time.Sleep(time.Until(due))
	return n, err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// objectsEndpoint is the URL of the objects backend whose bodies go at
// most rate bytes per second (0: unpaced), started on first use.
func (r *rig) objectsEndpoint(rate float64) (string, error) {
	name := "objects"
	if rate > 0 {
		name = fmt.Sprintf("objects at %.0f bytes/s", rate)
	}
	return r.backend(name, objectsBackend(rate))
}

// filesService is the service with --serve-objects over the objects
// backend at rate (0: unpaced).
func (r *rig) filesService(rate float64) (*svcProc, string, error) {
	endpoint, err := r.objectsEndpoint(rate)
	if err != nil {
		return nil, "", err
	}
	svc, err := r.serviceAt(endpoint, filesEnv)
	return svc, endpoint, err
}

// fileGet GETs key through the object route, with wrk.
func fileGet(key string) setup {
	return func(r *rig) (target, error) {
		svc, _, err := r.filesService(0)
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
		endpoint, err := r.objectsEndpoint(0)
		return target{url: endpoint + "/" + benchBucket + "/" + key}, err
	}
}

// fileDownload downloads key whole through the object route, each client
// one download after another (the Go load generator: wrk would keep the
// bodies' bytes only to count them).
func fileDownload(key string) setup {
	return func(r *rig) (target, error) {
		svc, _, err := r.filesService(0)
		if err != nil {
			return target{}, err
		}
		url := svc.base + "/files/" + key
		return target{svc: svc, walk: func() error { return fetch(r.walker, url) }}, nil
	}
}

// fileTimes are the object route's figures, one request at a time:
//   - flowRate and flowRateSDK: bytes/s downloading the 256 MiB object
//     from the backend paced at s3FlowRate, the most one S3 download gets
//     on a deployed instance, through the service and straight from the
//     backend with the AWS SDK's GetObject: whether the service keeps up
//     with S3 (medians of 9);
//   - memRate, memRelayRate and memSDKRate: the same download from the
//     unpaced backend through the service, through the bare relay
//     (relay.go) and with the SDK: what relaying costs where only the
//     machine's CPUs limit the rate (medians of 9; all five take turns);
//   - relayRatio: the service's rate over the bare relay's, unpaced, as
//     the median of 21 pairs (pairedRatio): on a shared machine one
//     download's rate moves by a fifth from one second to the next, which
//     a ratio of two medians taken seconds apart carries whole;
//   - ttfb and ttfbSDK: the time to the first byte of the 1 KiB object,
//     through the service and with the SDK (medians of 201);
//   - lastByte and oneByte: the last byte of the 256 MiB object by range,
//     and the 1-byte object, through the service (medians of 101).
type fileTimes struct {
	flowRate, flowRateSDK             float64
	memRate, memRelayRate, memSDKRate float64
	relayRatio                        float64
	ttfb, ttfbSDK                     time.Duration
	lastByte, oneByte                 time.Duration
}

// timeFiles measures fileTimes.
func timeFiles(r *rig) (ft fileTimes, err error) {
	paced, pacedEndpoint, err := r.filesService(s3FlowRate)
	if err != nil {
		return ft, err
	}
	svc, endpoint, err := r.filesService(0)
	if err != nil {
		return ft, err
	}
	relay, err := r.relay(endpoint)
	if err != nil {
		return ft, err
	}
	sdk, pacedSDK := sdkClient(endpoint), sdkClient(pacedEndpoint)
	big := benchObjects[0].size
	times, err := mediansTimed(9,
		timed(func() error { return fetchN(r.walker, paced.base+"/files/"+bigObject, nil, big) }),
		timed(func() error { return sdkGetN(r.ctx, pacedSDK, bigObject, big) }),
		timed(func() error { return fetchN(r.walker, svc.base+"/files/"+bigObject, nil, big) }),
		timed(func() error { return fetchN(r.walker, relay+"/"+bigObject, nil, big) }),
		timed(func() error { return sdkGetN(r.ctx, sdk, bigObject, big) }),
	)
	if err != nil {
		return ft, err
	}
	rate := func(d time.Duration) float64 { return float64(big) / d.Seconds() }
	ft.flowRate, ft.flowRateSDK = rate(times[0]), rate(times[1])
	ft.memRate, ft.memRelayRate, ft.memSDKRate = rate(times[2]), rate(times[3]), rate(times[4])
	ft.relayRatio, err = pairedRatio(21,
		timed(func() error { return fetchN(r.walker, relay+"/"+bigObject, nil, big) }),
		timed(func() error { return fetchN(r.walker, svc.base+"/files/"+bigObject, nil, big) }),
	)
	if err != nil {
		return ft, err
	}
	files := svc.base + "/files/"
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

// pairedRatio runs a and b one right after the other, n times, the two
// taking turns at going first, and returns the median over the pairs of
// a's time over b's: a change in the machine's speed between pairs (a
// shared machine's other tenants) moves both sides of a pair alike.
func pairedRatio(n int, a, b func() (time.Duration, error)) (float64, error) {
	ratios := make([]float64, 0, n)
	for i := range n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		d1, err := first()
		if err != nil {
			return 0, err
		}
		d2, err := second()
		if err != nil {
			return 0, err
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		ratios = append(ratios, float64(d1)/float64(d2))
	}
	slices.Sort(ratios)
	return ratios[n/2], nil
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
	return fmt.Sprintf("%s; 64 clients downloading 64 MiB each: %.0f MiB/s in all, peak RSS %.1f MiB",
		fileTimesLine(ft), mid.rps*float64(benchObjects[1].size)/(1<<20), float64(mid.peakKiB)/1024)
}

// fileTimesLine is the part of filesLine that fileTimes hold, what -files
// prints.
func fileTimesLine(ft fileTimes) string {
	mib := func(rate float64) float64 { return rate / (1 << 20) }
	return fmt.Sprintf("--serve-objects: 256 MiB in one download (medians of 9): from a backend at one S3 flow's 5 Gbit/s, %.0f MiB/s through the service, %.0f MiB/s with the SDK (%.0f%%); "+
		"from the unpaced backend, %.0f MiB/s through the service, %.0f MiB/s through a bare relay (%.0f%% in pairs, median of 21), %.0f MiB/s with the SDK (%.0f%%); "+
		"1 KiB object, time to the first byte (median of 201): %s through the service, %s with the SDK (+%s); last byte of 256 MiB by range %s, a 1-byte object %s (median of 101)",
		mib(ft.flowRate), mib(ft.flowRateSDK), 100*ft.flowRate/ft.flowRateSDK,
		mib(ft.memRate), mib(ft.memRelayRate), 100*ft.relayRatio, mib(ft.memSDKRate), 100*ft.memRate/ft.memSDKRate,
		ms(ft.ttfb), ms(ft.ttfbSDK), ms(ft.ttfb-ft.ttfbSDK), ms(ft.lastByte), ms(ft.oneByte))
}

package main

import (
	"errors"
	"net/http"
	"os/exec"
	"time"
)

// probes are the figures measured once or one request at a time, apart
// from the load rows.
type probes struct {
	binaryBytes       int64           // the stripped binary
	healthy, ready    []time.Duration // start to /healthz and to /readyz 200, per start
	tenK              tenKTimes
	api               apiTimes
	views             viewTimes
	readme            readmeTimes
	heapRise, rssRise float64 // MiB a 100,000-entry listing adds in a fresh process
	files             fileTimes
}

// tenKTimes is the time to list the 10,000-entry directory through the
// service, and to fetch its 10 pages from the backend directly with the
// AWS SDK paginator and as raw bytes (medians of 31).
type tenKTimes struct{ service, sdk, direct time.Duration }

// apiTimes are the listing API's figures (issue 11), medians of 31.
type apiTimes struct {
	firstPage, lastPage   time.Duration // of the 1,000,000-entry directory, limit=1000
	names, details        time.Duration // the 10,000-entry listing without and with details=true
	plain, gzip           time.Duration // the same without and with gzip accepted
	plainBytes, gzipBytes int64         // on the wire
}

// measureProbes measures what is timed one request at a time, after the
// load rows so that nothing else runs beside it.
func measureProbes(r *rig, p *probes) error {
	var err error
	if p.tenK, err = timeTenK(r); err != nil {
		return err
	}
	if p.api, err = timeAPI(r); err != nil {
		return err
	}
	if p.views, err = timeViews(r); err != nil {
		return err
	}
	if p.readme, err = timeReadme(r); err != nil {
		return err
	}
	if p.files, err = timeFiles(r); err != nil {
		return err
	}
	p.heapRise, p.rssRise, err = streamMemory(r.bin, r.endpoint, r.walker)
	return err
}

// timeTenK times listing 10,000 entries, one request at a time. The three
// ways take turns, so a change in load on the machine hits them alike.
func timeTenK(r *rig) (tenKTimes, error) {
	plain, err := r.service()
	if err != nil {
		return tenKTimes{}, err
	}
	sdk := sdkClient(r.endpoint)
	times, err := medians(31,
		func() error { return fetch(r.walker, plain.base+"/list-bucket-content/ten-k") },
		func() error { return sdkWalk(r.ctx, sdk, "ten-k/", 10_000) },
		func() error { _, err := walkPages(r.walker, r.endpoint, benchBucket, "ten-k/"); return err },
	)
	if err != nil {
		return tenKTimes{}, err
	}
	return tenKTimes{service: times[0], sdk: times[1], direct: times[2]}, nil
}

// timeAPI times the listing API (issue 11), one request at a time, taking
// turns.
func timeAPI(r *rig) (apiTimes, error) {
	var a apiTimes
	plain, err := r.service()
	if err != nil {
		return a, err
	}
	page500, err := pageURL(r.walker, plain.base+millionPage1, 500)
	if err != nil {
		return a, err
	}
	tenK := plain.base + "/list-bucket-content/ten-k"
	compressed := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	times, err := medians(31,
		func() error { return fetch(r.walker, plain.base+millionPage1) },
		func() error { return fetch(r.walker, plain.base+page500) },
		func() error { return fetch(r.walker, tenK) },
		func() error { return fetch(r.walker, tenK+"?details=true") },
		func() (err error) { a.plainBytes, err = wireBytes(compressed, tenK, ""); return err },
		func() (err error) { a.gzipBytes, err = wireBytes(compressed, tenK, "gzip"); return err },
	)
	if err != nil {
		return a, err
	}
	a.firstPage, a.lastPage, a.names, a.details, a.plain, a.gzip = times[0], times[1], times[2], times[3], times[4], times[5]
	return a, nil
}

// timeToReady starts fresh processes, polling every millisecond, and
// returns how long each took to answer /healthz and /readyz.
func timeToReady(bin, endpoint string) (healthy, ready []time.Duration, err error) {
	for range 7 {
		addr, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		cmd := exec.Command(bin)
		cmd.Env = serviceEnv(endpoint, addr)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		h, r, err := waitUp("http://"+addr, start, 10*time.Second)
		(&svcProc{cmd: cmd}).stop()
		if err != nil {
			return nil, nil, err
		}
		healthy, ready = append(healthy, h), append(ready, r)
	}
	return healthy, ready, nil
}

// streamMemory lists the 100,000-entry directory once in a fresh service
// and reports how much the peak Go heap (largest heap at a GC start, from
// GODEBUG=gctrace=1) and the peak RSS rose above their level after a warm
// small listing. The service runs with --memory-target 0: under a target
// the heap grows to the target whatever the listing holds, and this row
// is about what it holds, so the collector paces by live data here.
func streamMemory(bin, endpoint string, client *http.Client) (heapMiB, rssMiB float64, err error) {
	svc, err := startService(bin, endpoint, true, "BUCKETLS_MEMORY_TARGET=0")
	if err != nil {
		return 0, 0, err
	}
	defer svc.stop()
	for range 20 {
		if err := fetch(client, svc.base+"/list-bucket-content/dir2"); err != nil {
			return 0, 0, err
		}
	}
	// Baseline: the heap in use (live and not yet collected) when warm.
	baseHeap, err := heapAlloc(client, svc.base)
	if err != nil {
		return 0, 0, err
	}
	if err := svc.resetPeakRSS(); err != nil {
		return 0, 0, err
	}
	baseRSS, err := svc.rssKiB("VmRSS")
	if err != nil {
		return 0, 0, err
	}
	before := svc.gcCount()
	if err := fetch(client, svc.base+"/list-bucket-content/hundred-k"); err != nil {
		return 0, 0, err
	}
	after, err := heapAlloc(client, svc.base)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(200 * time.Millisecond) // let the last gctrace lines arrive
	peakRSS, err := svc.rssKiB("VmHWM")
	if err != nil {
		return 0, 0, err
	}
	atGC, gcs := svc.gcPeakSince(before)
	if gcs == 0 {
		return 0, 0, errors.New("no GC ran during the 100k listing; cannot read its peak heap")
	}
	// gctrace reports MB (10^6 bytes); /metrics gave MiB.
	peakHeap := max(atGC*1e6/(1<<20), after)
	return peakHeap - baseHeap, float64(peakRSS-baseRSS) / 1024, nil
}

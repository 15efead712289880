package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// loadWorkers is how many clients -load runs. Each sends one request at a
// time and pauses 10 to 50 ms between two, so the load stays modest: some
// tens of requests per second.
const loadWorkers = 4

// loadNames are the names /hello/{name} is called with: many raw paths,
// one route.
var loadNames = [...]string{"ada", "grace", "linus", "ken", "barbara", "dennis"}

// loadRequest picks the method and path of the next request of the
// traffic mix: mostly GET /hello, some /fail, some POST /orders (each one
// an outbound call and an operation too), /slow with 20 to 400 ms, and now
// and then a bad ms.
func loadRequest(r *rand.Rand) (method, path string) {
	switch n := r.IntN(100); {
	case n < 50:
		return http.MethodGet, "/hello/" + loadNames[r.IntN(len(loadNames))]
	case n < 65:
		return http.MethodGet, "/fail"
	case n < 80:
		return http.MethodPost, "/orders"
	case n < 96:
		return http.MethodGet, fmt.Sprintf("/slow?ms=%d", 20+r.IntN(381))
	default:
		return http.MethodGet, "/slow?ms=soon"
	}
}

// driveLoad sends the traffic mix at base from workers clients until ctx
// ends.
func driveLoad(ctx context.Context, base string, workers int) {
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			for ctx.Err() == nil {
				method, path := loadRequest(r)
				req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
				if err != nil {
					return
				}
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				sleep(ctx, time.Duration(10+r.IntN(41))*time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// report prints the live line every loadEvery until ctx ends: the RED
// numbers of the last interval, read from the instruments through the
// ManualReader that sits beside the exporters, not from a stopwatch of its
// own.
func (d *demo) report(ctx context.Context, w io.Writer) {
	prev, err := d.snapshot(ctx)
	if err != nil {
		fmt.Fprintf(d.opts.stderr, "load: reading metrics: %v\n", err)
		return
	}
	t := time.NewTicker(d.opts.loadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := d.snapshot(ctx)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(d.opts.stderr, "load: reading metrics: %v\n", err)
			}
			continue
		}
		fmt.Fprintf(w, "%s %s\n", cur.at.Format(time.TimeOnly), formatLine(cur.since(prev), cur.at.Sub(prev.at)))
		prev = cur
	}
}

package site_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/conc/iter"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{bigDir, scaleTmp} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

var (
	bigOnce sync.Once
	bigDir  string
	bigCfg  *config.Config
	bigErr  error
)

// Size of the benchmark portfolio: 200 products with 90 days of history (what the site reads),
// and one more run's snapshot after now (see BenchmarkBuild).
const (
	bigProducts = 200
	bigDays     = 90
)

// bigPortfolio is 200 synthetic products with 90 days of history up to now plus one run
// (now+15 min), generated once per process. A build at now leaves the last run out.
func bigPortfolio(b *testing.B) (*config.Config, *store.Store) {
	bigOnce.Do(func() {
		bigDir, bigErr = os.MkdirTemp("", "portfolio-site-bench-")
		if bigErr != nil {
			return
		}
		bigCfg = demo.Config(bigProducts)
		bigErr = demo.Generate(bigCfg, store.Open(filepath.Join(bigDir, "data")), demo.Options{Seed: 1, Days: bigDays, Now: now.Add(demo.Interval)})
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigCfg, store.Open(filepath.Join(bigDir, "data"))
}

// peakHeap samples the live heap every millisecond until stop is called, and returns the peak.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// decodeOnly reads what a build reads (90 days of snapshots and every entity file of every
// product) without computing or rendering anything, one product per goroutine as the build
// reads them (conc's iter: GOMAXPROCS at once), so the two are measured the same way.
func decodeOnly(b *testing.B, cfg *config.Config, st *store.Store, from time.Time) {
	_, err := iter.MapErr(cfg.Products, func(p *config.Product) (struct{}, error) {
		if _, err := st.Snapshots(p.ID, from, now.Add(time.Nanosecond)); err != nil {
			return struct{}{}, err
		}
		if _, err := st.Deployments(p.ID); err != nil {
			return struct{}{}, err
		}
		if _, err := st.Incidents(p.ID); err != nil {
			return struct{}{}, err
		}
		_, err := st.Analytics(p.ID)
		return struct{}{}, err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBuild builds the site of 200 products with 90 days of history each. It reports the
// peak live heap, and how the build compares with only decoding the data it reads: before each
// build, with the timer stopped, the same data is decoded the way the build reads it (in
// parallel), so "build/decode" is the ratio of the two totals over the same iterations, under
// the same load and page cache ("decode-ms" is that decode per iteration).
//
// Then, untimed, what a reader and the publisher get (see measureSite and measureNextRun): the
// largest page of each kind, the JavaScript a chart page loads (gzipped), and the share of the
// site's bytes the next run re-uploads, after one more snapshot per product and after a
// rebuild 15 minutes later with no new data.
func BenchmarkBuild(b *testing.B) {
	cfg, st := bigPortfolio(b)
	out := filepath.Join(b.TempDir(), "public")
	from := now.Add(-90 * 24 * time.Hour)

	decodeOnly(b, cfg, st, from) // warm the page cache
	start := time.Now()
	decodeOnly(b, cfg, st, time.Time{})
	decAll := time.Since(start)

	runtime.GC()
	stop := peakHeap()
	b.ReportAllocs()
	b.ResetTimer()
	var decoding, building time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t0 := time.Now()
		decodeOnly(b, cfg, st, from)
		decoding += time.Since(t0)
		b.StartTimer()
		t1 := time.Now()
		if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: now}); err != nil {
			b.Fatal(err)
		}
		building += time.Since(t1)
	}
	b.StopTimer()
	peak := stop()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(decoding.Milliseconds())/float64(b.N), "decode-ms")
	b.ReportMetric(float64(decAll.Milliseconds()), "decode-all-ms")
	b.ReportMetric(float64(building)/float64(decoding), "build/decode")
	measureSite(b, out)
	measureNextRun(b, cfg, st)
}

// BenchmarkBuildDemo builds the demo site: the example config's products with 90 days of
// history, as `portfolio demo` writes them.
func BenchmarkBuildDemo(b *testing.B) {
	cfg, st := fixture(b, 90)
	out := filepath.Join(b.TempDir(), "public")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

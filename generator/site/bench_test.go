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

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

var (
	bigOnce sync.Once
	bigDir  string
	bigCfg  *config.Config
	bigErr  error
)

// bigPortfolio is 100 synthetic products with 365 days of history, generated once per process.
func bigPortfolio(b *testing.B) (*config.Config, *store.Store) {
	bigOnce.Do(func() {
		bigDir, bigErr = os.MkdirTemp("", "portfolio-site-bench-")
		if bigErr != nil {
			return
		}
		bigCfg = demo.Config(100)
		bigErr = demo.Generate(bigCfg, store.Open(filepath.Join(bigDir, "data")), demo.Options{Seed: 1, Days: 365, Now: now})
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
// product) without computing or rendering anything.
func decodeOnly(b *testing.B, cfg *config.Config, st *store.Store, from time.Time) {
	for _, p := range cfg.Products {
		if _, err := st.Snapshots(p.ID, from, now.Add(time.Nanosecond)); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Deployments(p.ID); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Incidents(p.ID); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Analytics(p.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild builds the site of 100 products with 365 days of history each (the site
// reads the last 90 days). It reports the peak live heap, and the ratio of the build time to
// the time it takes only to decode the data the build reads ("build/decode"), and to decode
// all of the data ("decode-all-ms").
func BenchmarkBuild(b *testing.B) {
	cfg, st := bigPortfolio(b)
	out := filepath.Join(b.TempDir(), "public")

	decode := func(from time.Time) time.Duration {
		runtime.GC()
		start := time.Now()
		decodeOnly(b, cfg, st, from)
		return time.Since(start)
	}
	decode(now.Add(-90 * 24 * time.Hour)) // warm the page cache
	dec90 := min(decode(now.Add(-90*24*time.Hour)), decode(now.Add(-90*24*time.Hour)))
	decAll := decode(time.Time{})

	runtime.GC()
	stop := peakHeap()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	peak := stop()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(dec90.Milliseconds()), "decode-ms")
	b.ReportMetric(float64(decAll.Milliseconds()), "decode-all-ms")
	b.ReportMetric(float64(perOp)/float64(dec90), "build/decode")
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

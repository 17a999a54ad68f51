package run_test

import (
	"context"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
)

// BenchmarkCollectAllSkipped is a collect of 100 products whose sources all skip (no
// credentials, no health URL), each with 29 days of history in its log: what a run costs the
// store alone. One op is one collect; each appends a snapshot to every product.
func BenchmarkCollectAllSkipped(b *testing.B) {
	cfg := demo.Config(100)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	st := store.Open(b.TempDir())
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 29, Now: now}); err != nil {
		b.Fatal(err)
	}
	if err := st.SaveMeta(store.Meta{}); err != nil { // collected data, not demo data: collect writes
		b.Fatal(err)
	}
	for i := range cfg.Products {
		cfg.Products[i].URL, cfg.Products[i].HealthEndpoint = "", "" // the probe skips too
	}
	o := run.Options{Config: cfg, Store: st, Getenv: func(string) string { return "" }}
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Minute)
		o.Now = now
		sum, err := run.Collect(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Counts["skipped"] != 400 || len(sum.Damaged) != 0 {
			b.Fatalf("counts %v, damaged %v", sum.Counts, sum.Damaged)
		}
	}
}

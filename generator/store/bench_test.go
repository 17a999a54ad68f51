package store_test

import (
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/store"
)

// BenchmarkSnapshots90Days reads 90 days of one busy product's snapshots (8,640 lines over four
// monthly files, probe + Cloudflare HTTP + worker in every line), as the site build does.
func BenchmarkSnapshots90Days(b *testing.B) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	cfg := demo.Config(1) // product-001: behind Cloudflare, with a worker and PostHog
	st := store.Open(b.TempDir())
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 90, Now: now}); err != nil {
		b.Fatal(err)
	}
	from := now.AddDate(0, 0, -90)
	b.ReportAllocs()
	for b.Loop() {
		snaps, err := st.Snapshots("product-001", from, now.Add(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if len(snaps) != 90*96 {
			b.Fatalf("%d snapshots", len(snaps))
		}
	}
}

// BenchmarkAppendSnapshot is one run's append to a month file already holding 30 days.
func BenchmarkAppendSnapshot(b *testing.B) {
	now := time.Date(2026, 11, 30, 23, 45, 0, 0, time.UTC)
	cfg := demo.Config(1)
	st := store.Open(b.TempDir())
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 29, Now: now.Add(-24 * time.Hour)}); err != nil {
		b.Fatal(err)
	}
	last, _, err := st.LastSnapshot("product-001")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		last.Time = last.Time.Add(time.Second)
		if err := st.AppendSnapshot("product-001", last); err != nil {
			b.Fatal(err)
		}
	}
}

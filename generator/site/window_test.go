package site_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

// TestBuildDecodesItsWindow builds a site from 200 days of history at midday: the build reads
// each product's last 90 days (the longest range the pages show), the SLO window before them
// (the error budget of their first day) and a week more (the chart files are cut at whole
// weeks, see chunkBuckets), and decodes at most 5% more lines than that.
func TestBuildDecodesItsWindow(t *testing.T) {
	cfg := repoConfig(t)
	at := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	st := store.Open(filepath.Join(t.TempDir(), "data"))
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 200, Now: at}); err != nil {
		t.Fatal(err)
	}
	from := at.Add(-90*24*time.Hour - health.SLOWindow - 7*24*time.Hour)
	inWindow := 0
	for _, p := range cfg.Products {
		snaps, err := st.Snapshots(p.ID, from, at.Add(time.Nanosecond))
		if err != nil {
			t.Fatal(err)
		}
		inWindow += len(snaps)
	}
	before := st.LinesDecoded()
	if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: filepath.Join(t.TempDir(), "public"), Now: at}); err != nil {
		t.Fatal(err)
	}
	decoded := st.LinesDecoded() - before
	ratio := float64(decoded) / float64(inWindow)
	t.Logf("decoded %d lines for %d in the window (%.3f×); the history holds %d", decoded, inWindow, ratio, 200*96*len(cfg.Products))
	if ratio > 1.05 {
		t.Errorf("the build decoded %d lines for %d in its window: %.3f×, want at most 1.05×", decoded, inWindow, ratio)
	}
}

package impact

import (
	"fmt"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

// BenchmarkAnalyze judges 90 days of a busy product as the site does: 8,640 snapshots with
// Cloudflare, Workers and probe data, 270 deployments (three a day), two key events.
func BenchmarkAnalyze(b *testing.B) {
	p := edgeProduct
	p.PostHog = config.PostHog{Host: "shop.example.com", KeyEvents: []string{"signup", "checkout_completed"}}
	s := snaps(run{from: -90 * 24 * time.Hour, to: 0, req: 20000, fivexx: 0.0005, p95: 120, probeMs: 80, workerReq: 18000, workerErr: 4})
	var deps []record.Deployment
	for i := range 270 {
		deps = append(deps, record.Deployment{ID: fmt.Sprintf("run:%d", i), SHA: "abcdef0", Time: t0.Add(-90*24*time.Hour + time.Duration(i)*8*time.Hour + 7*time.Minute),
			Outcome: record.OutcomeSuccess})
	}
	in := Input{Product: p, Snapshots: s, Deployments: deps, Settings: SettingsOf(config.Impact{}), From: t0.Add(-90 * 24 * time.Hour), Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		if r := Analyze(in); len(r) != 270 {
			b.Fatalf("%d reports", len(r))
		}
	}
}

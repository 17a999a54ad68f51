package digest_test

import (
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/digest"
)

// BenchmarkCompute200 computes the digest of a hard week of 200 products (hourly checks over
// the period, the one before and the SLO window, a deployment a day, two incidents each):
// what the weekly run and each period of the site build pay.
func BenchmarkCompute200(b *testing.B) {
	cfg := demo.Config(200)
	per := digest.ScheduleOf(cfg).Latest(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	in := synthetic(cfg, per)
	b.ResetTimer()
	for b.Loop() {
		d := digest.Compute(in)
		if len(d.Products) != 200 {
			b.Fatal(len(d.Products))
		}
	}
}

// BenchmarkRender200 renders that digest as text, email HTML and Slack message.
func BenchmarkRender200(b *testing.B) {
	cfg := demo.Config(200)
	per := digest.ScheduleOf(cfg).Latest(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	d := digest.Compute(synthetic(cfg, per))
	b.ResetTimer()
	for b.Loop() {
		digest.Text(d)
		if _, err := digest.HTML(d); err != nil {
			b.Fatal(err)
		}
		digest.SlackMessage(d)
	}
}

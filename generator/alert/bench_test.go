package alert

import (
	"fmt"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// BenchmarkEvaluate evaluates 50 products with 25 hours of 15-minute snapshots each (100 runs),
// the shape of a real portfolio run, from a state that already holds their alerts.
func BenchmarkEvaluate(b *testing.B) {
	var in Input
	in.Routes = testRoutes()
	for p := range 50 {
		pr := product(fmt.Sprintf("p%02d", p))
		snaps := history(100, 15*time.Minute, func(i int, s *record.Snapshot) {
			if p%5 == 0 && i < 3 {
				fail(s)
			}
			s.HTTP.Status5x = int64(p % 20)
		})
		in.Products = append(in.Products, ProductInput{Product: pr, Snapshots: snaps,
			Deployments: []record.Deployment{{ID: "run:1", SHA: "abc", Time: t0.Add(-time.Hour), Outcome: record.OutcomeSuccess}}})
	}
	prev, _ := Evaluate(State{}, in, t0.Add(-15*time.Minute))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Evaluate(prev, in, t0)
	}
}

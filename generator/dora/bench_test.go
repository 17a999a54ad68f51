package dora

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

// benchInputs builds 50 products with two years of history and about 20 deployments a day
// across the portfolio (each with 1–5 changes; one in ten fails; an incident every ~25 deployments).
func benchInputs() []Input {
	rng := rand.New(rand.NewPCG(1, 2))
	const products, days, perDay = 50, 730, 20
	in := make([]Input, products)
	for i := range in {
		in[i].Product = config.Product{ID: fmt.Sprintf("p%02d", i)}
	}
	start := now.AddDate(0, 0, -days)
	n := days * perDay
	step := time.Duration(days) * 24 * time.Hour / time.Duration(n)
	for k := range n {
		p := &in[rng.IntN(products)]
		t := start.Add(time.Duration(k) * step)
		sha := fmt.Sprintf("%040x", k)
		if rng.IntN(10) == 0 {
			p.Deployments = append(p.Deployments, failed(fmt.Sprint("run:", k), sha, t))
			continue
		}
		var changes []record.Change
		for c := range 1 + rng.IntN(5) {
			changes = append(changes, ch(fmt.Sprintf("%038x%02d", k, c), t.Add(-time.Duration(rng.IntN(200000))*time.Second)))
		}
		p.Deployments = append(p.Deployments, ok(fmt.Sprint("run:", k), sha, t, changes...))
		if rng.IntN(25) == 0 {
			created := t.Add(time.Duration(rng.IntN(48)) * time.Hour)
			closed := created.Add(time.Duration(rng.IntN(20000)) * time.Second)
			p.Incidents = append(p.Incidents, record.Incident{Number: len(p.Incidents) + 1, CreatedAt: created, ClosedAt: &closed})
		}
	}
	return in
}

// BenchmarkDORA computes the report and the weekly series of a large portfolio through
// ComputeAll, the one call the site build makes for its DORA page, product pages and
// api/dora.json (site.doraView), on records shaped as the store returns them.
func BenchmarkDORA(b *testing.B) {
	in := benchInputs()
	c := cfg()
	b.ReportAllocs()
	for b.Loop() {
		r, w := ComputeAll(c, in, now)
		if r.Portfolio.Current.DeploymentFrequency.Successful == 0 || len(w.Weeks) != 13 {
			b.Fatal("no deployments")
		}
	}
}

// BenchmarkCompute is what `portfolio dora` calls.
func BenchmarkCompute(b *testing.B) {
	in := benchInputs()
	c := cfg()
	b.ReportAllocs()
	for b.Loop() {
		Compute(c, in, now)
	}
}

func TestComputeAllMatchesComputeAndWeekly(t *testing.T) {
	in := benchInputs()[:5]
	r, w := ComputeAll(cfg(), in, now)
	if js(r) != js(Compute(cfg(), in, now)) || js(w) != js(Weekly(cfg(), in, now)) {
		t.Error("ComputeAll differs from Compute and Weekly")
	}
}

package dora

import (
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Weeks is how many complete ISO weeks the weekly series holds before the current one.
const Weeks = 12

// WeeklySeries holds the figures of the last 12 complete ISO weeks and the current one, for
// charts: Weeks[k] is the bucket of Products[i].Figures[k] and Portfolio[k].
type WeeklySeries struct {
	Weeks     []Week          `json:"weeks"`
	Products  []ProductSeries `json:"products"`
	Portfolio []Figures       `json:"portfolio"`
}

// Week is one bucket: [Start, End). The current week ends at now and is Partial.
type Week struct {
	Start   time.Time `json:"start"` // Monday 00:00 UTC
	End     time.Time `json:"end"`
	Partial bool      `json:"partial,omitempty"`
}

// ProductSeries is one product's figures per week.
type ProductSeries struct {
	ID      string    `json:"id"`
	Figures []Figures `json:"figures"`
}

// WeekStart returns the Monday 00:00 UTC that starts t's ISO week.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	off := (int(d.Weekday()) + 6) % 7 // Monday 0 … Sunday 6
	return d.AddDate(0, 0, -off)
}

// Weekly computes the figures of every week bucket, per product (in order) and pooled. Each
// bucket is computed like a window: per_day divides by the bucket's length in days (7, or the
// elapsed part of the current week, at least one day), open incidents are those open at the
// bucket's end.
func Weekly(cfg config.DORA, in []Input, now time.Time) WeeklySeries {
	e := newEngine(cfg, now)
	return e.weekly(in, e.prepareAll(in))
}

func (e *engine) weekly(in []Input, ps []*prepared) WeeklySeries {
	cur := WeekStart(e.now)
	var spans []span
	ws := WeeklySeries{}
	for k := Weeks; k >= 0; k-- {
		start := cur.AddDate(0, 0, -7*k)
		end := start.AddDate(0, 0, 7)
		w := Week{Start: start, End: end}
		if k == 0 {
			w.End, w.Partial = e.now, true
		}
		ws.Weeks = append(ws.Weeks, w)
		length := max(w.End.Sub(w.Start), 24*time.Hour)
		exactDays := newFrac(uint64(length), uint64(24*time.Hour))
		spans = append(spans, span{start: w.Start, end: w.End, openAt: w.End, days: max(w.End.Sub(w.Start).Hours()/24, 1), exactDays: exactDays})
	}
	pooled := make([]raw, len(spans))
	for k, s := range spans {
		pooled[k].days, pooled[k].exactDays = s.days, s.exactDays
	}
	for i, x := range in {
		p := ps[i]
		series := ProductSeries{ID: x.Product.ID, Figures: make([]Figures, len(spans))}
		for k, s := range spans {
			r := p.window(s)
			pooled[k].add(r)
			series.Figures[k] = e.figures(&r)
		}
		ws.Products = append(ws.Products, series)
	}
	ws.Portfolio = make([]Figures, len(spans))
	for k := range spans {
		ws.Portfolio[k] = e.figures(&pooled[k])
	}
	return ws
}

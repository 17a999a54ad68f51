package demo

import (
	"fmt"
	"sort"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// AlertReplayDays is how much of the demo history ReplayAlerts evaluates.
const AlertReplayDays = 14

// ReplayAlerts runs the alert rules over the last days of the stored history, once per
// snapshot time as the scheduled job would have, and saves the resulting state with every
// notification recorded as delivered, so the demo's alerts center has active alerts and a
// history of transitions. It reads the store once and evaluates in memory.
func ReplayAlerts(cfg *config.Config, st *store.Store, now time.Time, days int) error {
	routes, err := alert.Routes(cfg.NotificationChannels)
	if err != nil {
		return fmt.Errorf("demo alerts: %w", err)
	}
	start := now.Add(-time.Duration(days) * 24 * time.Hour)
	type product struct {
		p     config.Product
		snaps []record.Snapshot
		deps  []record.Deployment // by time
		incs  []record.Incident
		days  []record.AnalyticsDay
		dora  *dora.Comparison
		day   time.Time // the day dora was computed for
	}
	var ps []*product
	for _, p := range cfg.Products {
		deps, err := st.Deployments(p.ID)
		if err != nil {
			return fmt.Errorf("demo alerts %s: %w", p.ID, err)
		}
		// Each evaluation reads what Gather would: History, or back to the before-window of
		// the latest deployment (see alert.SnapshotsFrom), at most a lookback before start.
		before, _ := p.Impact.Windows()
		snaps, err := st.Snapshots(p.ID, start.Add(-max(alert.History, alert.ImpactLookback+before)), now.Add(time.Nanosecond))
		if err != nil {
			return fmt.Errorf("demo alerts %s: %w", p.ID, err)
		}
		days, err := st.Analytics(p.ID)
		if err != nil {
			return fmt.Errorf("demo alerts %s: %w", p.ID, err)
		}
		incs, err := st.Incidents(p.ID)
		if err != nil {
			return fmt.Errorf("demo alerts %s: %w", p.ID, err)
		}
		sort.SliceStable(deps, func(i, j int) bool { return deps[i].Time.Before(deps[j].Time) })
		ps = append(ps, &product{p: p, snaps: snaps, deps: deps, incs: incs, days: days})
	}

	var state alert.State
	for t := start.Add(Interval); !t.After(now); t = t.Add(Interval) {
		in := alert.Input{Routes: routes, SiteURL: cfg.Site.BaseURL}
		for _, pr := range ps {
			n := sort.Search(len(pr.deps), func(i int) bool { return pr.deps[i].Time.After(t) })
			deps := pr.deps[:n]
			// DORA levels move slowly: recompute them once a day, as of that day's first run.
			if day := t.Truncate(24 * time.Hour); pr.dora == nil || !day.Equal(pr.day) {
				var incs []record.Incident
				for _, inc := range pr.incs {
					if !inc.CreatedAt.After(t) {
						if inc.ClosedAt != nil && inc.ClosedAt.After(t) {
							inc.ClosedAt = nil // still open at t
						}
						incs = append(incs, inc)
					}
				}
				c := dora.ProductFigures(cfg.DORA, dora.Input{Product: pr.p, Deployments: deps, Incidents: incs}, t)
				pr.dora, pr.day = &c, day
			}
			in.Products = append(in.Products, alert.ProductInput{
				Product:     pr.p,
				Snapshots:   health.Window(pr.snaps, alert.SnapshotsFrom(pr.p, deps, t), t.Add(time.Nanosecond)),
				Deployments: deps,
				DORA:        pr.dora,
				Days:        pr.days,
			})
		}
		next, notes := alert.Evaluate(state, in, t)
		for _, n := range notes {
			alert.Record(&next, n, alert.Receipt{}, nil, t)
		}
		state = next
	}
	if err := alert.Save(st, state); err != nil {
		return fmt.Errorf("demo alerts: %w", err)
	}
	return nil
}

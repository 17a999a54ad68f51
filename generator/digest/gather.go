package digest

import (
	"fmt"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Gather reads what the digest of per needs from the store: every product's records up to the
// period's end (an incident closed later is open at the end), and the alert state's
// transitions. A product whose data file is damaged is kept with what could be read and the
// damage named, as the site does.
func Gather(cfg *config.Config, st *store.Store, per Period) (Input, error) {
	in := Input{Config: cfg, Period: per}
	meta, err := st.Meta()
	if err != nil {
		return Input{}, err
	}
	in.Demo = meta.Demo()
	state, _, err := alert.LoadFile(st)
	if err != nil {
		return Input{}, err
	}
	in.Transitions = state.Transitions
	for _, p := range cfg.Products {
		pr, err := ReadProduct(st, p, Need(per), per.End)
		if err != nil {
			return Input{}, err
		}
		in.Products = append(in.Products, pr)
	}
	return in, nil
}

// ReadProduct reads one product's records in [from, to): the snapshots of that stretch, and
// the deployments, incidents and analytics before to. A damaged file is named in Damaged.
func ReadProduct(st *store.Store, p config.Product, from, to time.Time) (ProductRecords, error) {
	pr := ProductRecords{Product: p}
	keep := func(err error) error {
		if _, ok := store.Damage(err); ok {
			pr.Damaged = append(pr.Damaged, store.DamageText(err))
			return nil
		}
		if err != nil {
			return fmt.Errorf("digest: product %s: %w", p.ID, err)
		}
		return nil
	}
	var err error
	pr.Snapshots, err = st.Snapshots(p.ID, from, to)
	if err := keep(err); err != nil {
		return pr, err
	}
	deps, err := st.Deployments(p.ID)
	if err := keep(err); err != nil {
		return pr, err
	}
	for _, x := range deps {
		if x.Time.Before(to) {
			pr.Deployments = append(pr.Deployments, x)
		}
	}
	incs, err := st.Incidents(p.ID)
	if err := keep(err); err != nil {
		return pr, err
	}
	for _, x := range incs {
		if !x.CreatedAt.Before(to) {
			continue
		}
		if x.ClosedAt != nil && !x.ClosedAt.Before(to) {
			x.ClosedAt, x.StateReason = nil, ""
		}
		pr.Incidents = append(pr.Incidents, x)
	}
	if len(p.PostHog.KeyEvents) > 0 {
		days, err := st.Analytics(p.ID)
		if err := keep(err); err != nil {
			return pr, err
		}
		pr.Days = days
	}
	return pr, nil
}

// Package demo writes a deterministic synthetic history for a portfolio: snapshots every 15
// minutes with daily traffic cycles, blips and outages; deployments with their commits;
// incidents; and daily analytics. The same config, seed and now give byte-identical files.
//
// It exists so that a fresh clone has a complete report to look at, and so that benchmarks can
// build portfolios of any size (Config synthesises one).
package demo

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Interval is the cadence of the synthetic runs, as of the scheduled workflow.
const Interval = 15 * time.Minute

// Options say how much history to write and where it ends.
type Options struct {
	Seed int64
	Days int       // history length; 0 means 90
	Now  time.Time // the time of the last snapshot; truncated to Interval
}

// Generate replaces the history of every product of cfg in st with a synthetic one, and marks
// the data as demo data (store.Meta.Demo), so the site shows a banner. Products
// are generated independently: each has its own random stream derived from the seed and its id.
func Generate(cfg *config.Config, st *store.Store, opts Options) error {
	if opts.Days == 0 {
		opts.Days = 90
	}
	if opts.Days < 1 {
		return fmt.Errorf("demo: days: want at least 1, got %d", opts.Days)
	}
	if opts.Now.IsZero() {
		return errors.New("demo: no now given")
	}
	opts.Now = opts.Now.UTC().Truncate(Interval)
	loc := cfg.Site.Location()
	for i, p := range cfg.Products {
		h := newHistory(p, i, opts, loc)
		if err := st.RemoveProduct(p.ID); err != nil {
			return fmt.Errorf("demo %s: %w", p.ID, err)
		}
		if err := st.AppendSnapshots(p.ID, h.snaps); err != nil {
			return fmt.Errorf("demo %s: %w", p.ID, err)
		}
		if err := st.SaveDeployments(p.ID, h.deps); err != nil {
			return fmt.Errorf("demo %s: %w", p.ID, err)
		}
		if err := st.SaveIncidents(p.ID, h.incs); err != nil {
			return fmt.Errorf("demo %s: %w", p.ID, err)
		}
		if h.days != nil {
			if err := st.SaveAnalytics(p.ID, h.days); err != nil {
				return fmt.Errorf("demo %s: %w", p.ID, err)
			}
		}
	}
	if err := ReplayAlerts(cfg, st, opts.Now, min(opts.Days, AlertReplayDays)); err != nil {
		return err
	}
	if err := st.SaveMeta(store.Meta{Generator: store.GeneratorDemo, Seed: opts.Seed, AsOf: opts.Now.UTC()}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// rng returns the product's random stream: a function of the seed and the id only, so adding a
// product does not change the others.
func rng(seed int64, id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// profile is a product's character: how fast, how busy, how often it ships.
type profile struct {
	ttfb       float64 // median time to first byte at night, ms
	rps        float64 // requests per second at the daily peak
	deploysDay float64 // mean deployments per weekday
	failRate   float64 // share of failed deployments
	dau        float64 // daily active users at the start of the history
	weekend    float64 // traffic on weekends relative to weekdays
}

// outage is a stretch of time in which a product is down (probes fail) or degraded (slow).
type outage struct {
	start, end time.Time
	down       bool
	cause      string // the probe error while down
	incident   bool   // an incident was opened for it
	causedBy   string // the sha of the deployment that caused it
	priority   int    // which to keep when two overlap: higher wins
}

func (o outage) covers(t time.Time) bool { return !t.Before(o.start) && t.Before(o.end) }

// history is everything generated for one product.
type history struct {
	p       config.Product
	index   int
	opts    Options
	loc     *time.Location
	r       *rand.Rand
	prof    profile
	start   time.Time // first snapshot
	outages []outage
	snaps   []record.Snapshot
	deps    []record.Deployment
	incs    []record.Incident
	days    []record.AnalyticsDay
	slow    *slowRelease // the release that made the product slower, if any
}

func newHistory(p config.Product, index int, opts Options, loc *time.Location) *history {
	n := opts.Days * int(24*time.Hour/Interval)
	h := &history{p: p, index: index, opts: opts, loc: loc, r: rng(opts.Seed, p.ID),
		start: opts.Now.Add(-time.Duration(n-1) * Interval)}
	h.prof = h.newProfile()
	h.deployments() // before outages: some outages follow a deployment
	h.planOutages()
	h.impactStories() // before incidents: it may drop an outage, and adds a deployment
	h.incidents()
	h.snapshots(n)
	if hasPostHog(p) {
		h.analytics()
	}
	return h
}

func hasCloudflare(p config.Product) bool { return p.Cloudflare.ZoneID != "" }
func hasPostHog(p config.Product) bool    { return p.PostHog.Host != "" || p.PostHog.Product != "" }

// busy products take traffic through Cloudflare and ship several times a day; the others (docs)
// are quiet.
func (h *history) newProfile() profile {
	r := h.r
	pr := profile{
		ttfb:       35 + r.Float64()*60,
		rps:        2 + r.Float64()*6,
		deploysDay: 0.3 + r.Float64()*0.4,
		failRate:   0.05,
		dau:        400 + r.Float64()*600,
		weekend:    0.6,
	}
	if hasCloudflare(h.p) {
		pr.ttfb = 70 + r.Float64()*110
		pr.rps = 15 + r.Float64()*60
		pr.deploysDay = 1.5 + r.Float64()*1.5
		pr.failRate = 0.08 + r.Float64()*0.07
		pr.dau = 2500 + r.Float64()*4000
	}
	if hasPostHog(h.p) {
		pr.weekend = 1.15 // a shop sells more on weekends
	}
	return pr
}

// load is the share of peak traffic at t: a night low, a morning rise and an afternoon peak in
// the site's time zone, less on weekends.
func (h *history) load(t time.Time) float64 {
	lt := t.In(h.loc)
	hour := float64(lt.Hour()) + float64(lt.Minute())/60
	day := math.Exp(-math.Pow((hour-14)/4.5, 2))
	f := 0.12 + 0.88*day
	if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= h.prof.weekend
	}
	return f
}

// jitter is a log-normal factor around 1.
func (h *history) jitter(sigma float64) float64 { return math.Exp(h.r.NormFloat64() * sigma) }

func round(f float64) float64 { return math.Round(f) }

func (h *history) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(h.r.Int64N(int64(hi-lo)+1))
}

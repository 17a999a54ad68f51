package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/panics"
	"github.com/sourcegraph/conc/pool"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Limits bound how Collect calls one source: at most Concurrency calls at once, each under
// Timeout. A source knows its API's limits and says so by implementing Limited.
type Limits struct {
	Concurrency int
	Timeout     time.Duration
}

// Limited is implemented by sources whose API needs other limits than DefaultLimits.
type Limited interface {
	Limits() Limits
}

// DefaultLimits apply to a source that does not implement Limited.
var DefaultLimits = Limits{Concurrency: 4, Timeout: 60 * time.Second}

// Shard selects a share of the products: product number k (0-based, in config order) belongs to
// shard Index (1-based) of Count when k mod Count == Index-1. The zero Shard selects all.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" with 1 <= i <= n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard: want i/n with 1 <= i <= n, like 2/4, got %q", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Selects reports whether the product at index k (config order) belongs to the shard.
func (s Shard) Selects(k int) bool {
	if s.Count <= 1 {
		return true
	}
	return k%s.Count == s.Index-1
}

func (s Shard) String() string {
	if s.Count <= 1 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Options configure one Collect run.
type Options struct {
	Products []config.Product // in config order
	Sources  []Source
	Store    *store.Store
	Now      time.Time // the snapshots' time
	Shard    Shard
	// Limits override a source's own limits, by source name.
	Limits map[string]Limits
	// Observer hears about every call as it starts and ends (progress output); may be nil.
	Observer Observer
	Log      *slog.Logger
	// Redactor scrubs every recorded message (nil: URL credentials only).
	Redactor *redact.Redactor
}

// Observer hears how a Collect run progresses. Calls may come from many goroutines at once.
type Observer interface {
	Started(product, source string)
	Finished(o Outcome)
	// ProductDone comes once per product, after all its sources finished, with its outcomes in
	// source order.
	ProductDone(product string, outcomes []Outcome)
}

// Outcome is how one source fared for one product.
type Outcome struct {
	Product  string
	Source   string
	Status   record.SourceStatus
	Duration time.Duration
}

// Summary is what a Collect run did.
type Summary struct {
	Shard    Shard
	Products []string // the products collected, in config order
	Sources  []string // in the order given
	// Outcomes are product-major (config order), then in source order.
	Outcomes []Outcome
	// Counts holds the number of outcomes by state (ok, skipped, error, rate_limited).
	Counts map[string]int
	// Records counts the deployments, incidents and analytics days added or changed in data/.
	Deployments, Incidents, AnalyticsDays int
	Duration                              time.Duration
}

// Failed reports whether any source failed (error or rate limited) for any product.
func (s Summary) Failed() bool {
	return s.Counts[record.StateError]+s.Counts[record.StateRateLimited] > 0
}

// FailedOutcomes lists the outcomes that failed, in Summary order.
func (s Summary) FailedOutcomes() []Outcome {
	var out []Outcome
	for _, o := range s.Outcomes {
		if o.Status.Failed() {
			out = append(out, o)
		}
	}
	return out
}

// slot is one source × product call; slots are indexed [product][source] so results keep
// the input order whatever order the calls finish in.
type slot struct {
	res Result
	err error
	dur time.Duration
}

// Collect runs every source for every selected product concurrently, bounded per source, and
// appends one snapshot per product to the store, merging each source's fields and upserting the
// entity records (deployments by ID, incidents by number, analytics by day).
//
// A source's error, timeout, panic or rate limit is recorded in the snapshot and never fails the
// run. Collect returns an error only when the store cannot be read or written, or when ctx is
// cancelled (then nothing is written). The caller holds the store's lock (run.Collect and
// run.Run take it), so that no other run writes at once.
func Collect(ctx context.Context, o Options) (Summary, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := Summary{Shard: o.Shard, Counts: map[string]int{}}
	for _, s := range o.Sources {
		sum.Sources = append(sum.Sources, s.Name())
	}
	var products []config.Product
	for k, p := range o.Products {
		if o.Shard.Selects(k) {
			products = append(products, p)
			sum.Products = append(sum.Products, p.ID)
		}
	}
	// The previous snapshot gives each source its "since" and the status history.
	prev := make([]*record.Snapshot, len(products))
	for i, p := range products {
		sn, ok, err := o.Store.LastSnapshot(p.ID)
		if err != nil {
			return sum, fmt.Errorf("collect %s: read last snapshot: %w", p.ID, err)
		}
		if ok {
			prev[i] = &sn
		}
	}

	slots := make([][]slot, len(products))
	for i := range slots {
		slots[i] = make([]slot, len(o.Sources))
	}
	// remaining counts unfinished sources per product, for Observer.ProductDone.
	remaining := make([]int, len(products))
	for i := range remaining {
		remaining[i] = len(o.Sources)
	}
	var mu sync.Mutex

	since := make(map[string]time.Time, len(products))
	for i, p := range products {
		if prev[i] != nil {
			since[p.ID] = prev[i].Time
		}
	}

	var wg conc.WaitGroup
	for j, src := range o.Sources {
		lim := o.limits(src)
		wg.Go(func() {
			// A batched source asks about every product first; its error stands for each
			// product it does not skip.
			var prepErr error
			if b, ok := src.(Batcher); ok && len(products) > 0 {
				prepErr = prepare(ctx, b, products, since, lim.Timeout)
			}
			p := pool.New().WithMaxGoroutines(lim.Concurrency)
			for i, prod := range products {
				p.Go(func() {
					if o.Observer != nil {
						o.Observer.Started(prod.ID, src.Name())
					}
					t0 := time.Now()
					res, err := call(ctx, src, prod, since[prod.ID], lim.Timeout)
					if prepErr != nil && !isSkip(err) {
						res, err = Result{}, prepErr
					}
					slots[i][j] = slot{res: res, err: err, dur: time.Since(t0)}
					if o.Observer == nil {
						return
					}
					oc := o.outcome(prod.ID, src.Name(), slots[i][j], prev[i])
					o.Observer.Finished(oc)
					mu.Lock()
					remaining[i]--
					done := remaining[i] == 0
					mu.Unlock()
					if done {
						ocs := make([]Outcome, len(o.Sources))
						for jj, s := range o.Sources {
							ocs[jj] = o.outcome(prod.ID, s.Name(), slots[i][jj], prev[i])
						}
						o.Observer.ProductDone(prod.ID, ocs)
					}
				})
			}
			p.Wait()
		})
	}
	wg.Wait()

	if err := ctx.Err(); err != nil {
		sum.Duration = time.Since(start)
		return sum, fmt.Errorf("collect interrupted, nothing written: %w", err)
	}

	// Each product's files are its own, so they are written in parallel (the writes fsync);
	// counts and errors go to a slot per product and are added up in order.
	type written struct {
		nd, ni, na int
		err        error
	}
	out := make([]written, len(products))
	wp := pool.New().WithMaxGoroutines(8)
	for i, prod := range products {
		snap := record.Snapshot{Time: o.Now.UTC(), Sources: map[string]record.SourceStatus{}}
		var res []Result
		for j, src := range o.Sources {
			sl := slots[i][j]
			oc := o.outcome(prod.ID, src.Name(), sl, prev[i])
			sum.Outcomes = append(sum.Outcomes, oc)
			sum.Counts[oc.Status.State]++
			snap.Sources[src.Name()] = oc.Status
			if oc.Status.State != record.StateSkipped {
				mergeSnapshot(&snap, sl.res.Snapshot)
				res = append(res, sl.res)
			}
			if oc.Status.Failed() {
				log.Debug("source failed", "product", prod.ID, "source", src.Name(), "state", oc.Status.State, "msg", oc.Status.Msg)
			}
		}
		wp.Go(func() {
			if err := o.Store.AppendSnapshot(prod.ID, snap); err != nil {
				out[i].err = fmt.Errorf("collect %s: append snapshot: %w", prod.ID, err)
				return
			}
			nd, ni, na, err := upsert(o.Store, prod.ID, res)
			out[i] = written{nd, ni, na, err}
			if err != nil {
				out[i].err = fmt.Errorf("collect %s: %w", prod.ID, err)
			}
		})
	}
	wp.Wait()
	var errs []error
	for _, w := range out {
		sum.Deployments += w.nd
		sum.Incidents += w.ni
		sum.AnalyticsDays += w.na
		if w.err != nil {
			errs = append(errs, w.err)
		}
	}
	sum.Duration = time.Since(start)
	return sum, errors.Join(errs...)
}

func (o *Options) limits(s Source) Limits {
	lim := DefaultLimits
	if l, ok := s.(Limited); ok {
		lim = l.Limits()
	}
	if l, ok := o.Limits[s.Name()]; ok {
		if l.Concurrency > 0 {
			lim.Concurrency = l.Concurrency
		}
		if l.Timeout > 0 {
			lim.Timeout = l.Timeout
		}
	}
	if lim.Concurrency < 1 {
		lim.Concurrency = DefaultLimits.Concurrency
	}
	if lim.Timeout <= 0 {
		lim.Timeout = DefaultLimits.Timeout
	}
	return lim
}

// call runs one source for one product under its timeout, turning a panic into an error.
func call(ctx context.Context, src Source, p config.Product, since time.Time, timeout time.Duration) (res Result, err error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rec := panics.Try(func() { res, err = src.Collect(cctx, p, since) })
	if rec != nil {
		return Result{}, fmt.Errorf("panic: %v", rec.Value)
	}
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return res, err
}

// prepare runs a batched source's Prepare under its timeout, turning a panic into an error.
func prepare(ctx context.Context, b Batcher, ps []config.Product, since map[string]time.Time, timeout time.Duration) (err error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if rec := panics.Try(func() { err = b.Prepare(cctx, ps, since) }); rec != nil {
		return fmt.Errorf("panic: %v", rec.Value)
	}
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return err
}

// outcome turns a call's result into the status recorded for it, with LastOK and Fails carried
// over from the previous snapshot.
func (o *Options) outcome(product, source string, sl slot, prev *record.Snapshot) Outcome {
	st := record.SourceStatus{State: record.StateOK}
	var rl *RateLimitedError
	switch {
	case sl.err == nil:
	case isSkip(sl.err):
		st = record.SourceStatus{State: record.StateSkipped, Msg: o.Redactor.String(sl.err.Error())}
	case errors.As(sl.err, &rl):
		st = record.SourceStatus{State: record.StateRateLimited, Msg: o.Redactor.String(sl.err.Error())}
	default:
		st = record.SourceStatus{State: record.StateError, Msg: o.Redactor.String(sl.err.Error())}
	}
	if st.State != record.StateOK && prev != nil {
		if ps, ok := prev.Sources[source]; ok {
			switch {
			case ps.State == record.StateOK:
				t := prev.Time.UTC()
				st.LastOK = &t
			case ps.LastOK != nil:
				t := ps.LastOK.UTC()
				st.LastOK = &t
			}
			if st.Failed() && ps.Failed() {
				st.Fails = ps.Fails
			}
		}
	}
	if st.Failed() {
		st.Fails++
	}
	return Outcome{Product: product, Source: source, Status: st, Duration: sl.dur}
}

func isSkip(err error) bool {
	_, ok := skip.Reason(err)
	return ok
}

// mergeSnapshot copies the fields a source filled into the product's snapshot.
func mergeSnapshot(dst *record.Snapshot, src record.Snapshot) {
	if src.Probe != nil {
		dst.Probe = src.Probe
	}
	if src.HTTP != nil {
		dst.HTTP = src.HTTP
	}
	if src.Health != "" {
		dst.Health = src.Health
	}
	if src.Worker != nil {
		dst.Worker = src.Worker
	}
}

// upsert merges the results' entity records into the product's stored ones and writes each
// file only when something changed. It returns how many records were added or changed.
func upsert(st *store.Store, product string, results []Result) (nd, ni, na int, err error) {
	var deps []record.Deployment
	var incs []record.Incident
	var days []record.AnalyticsDay
	for _, r := range results {
		deps = append(deps, r.Deployments...)
		incs = append(incs, r.Incidents...)
		days = append(days, r.Analytics...)
	}
	if len(deps) > 0 {
		old, err := st.Deployments(product)
		if err != nil {
			return nd, ni, na, fmt.Errorf("read deployments: %w", err)
		}
		merged, n := upsertBy(old, deps, func(d record.Deployment) string { return d.ID })
		if n > 0 {
			if err := st.SaveDeployments(product, merged); err != nil {
				return nd, ni, na, fmt.Errorf("save deployments: %w", err)
			}
		}
		nd = n
	}
	if len(incs) > 0 {
		old, err := st.Incidents(product)
		if err != nil {
			return nd, ni, na, fmt.Errorf("read incidents: %w", err)
		}
		merged, n := upsertBy(old, incs, func(i record.Incident) int { return i.Number })
		if n > 0 {
			if err := st.SaveIncidents(product, merged); err != nil {
				return nd, ni, na, fmt.Errorf("save incidents: %w", err)
			}
		}
		ni = n
	}
	if len(days) > 0 {
		old, err := st.Analytics(product)
		if err != nil {
			return nd, ni, na, fmt.Errorf("read analytics: %w", err)
		}
		merged, n := upsertBy(old, days, func(d record.AnalyticsDay) string { return d.Day })
		if n > 0 {
			if err := st.SaveAnalytics(product, merged); err != nil {
				return nd, ni, na, fmt.Errorf("save analytics: %w", err)
			}
		}
		na = n
	}
	return nd, ni, na, nil
}

// upsertBy replaces the records of old whose key appears in news and adds the others. It
// returns the merged records and how many were added or actually changed.
func upsertBy[T any, K comparable](old, news []T, key func(T) K) ([]T, int) {
	at := make(map[K]int, len(old))
	out := append([]T(nil), old...)
	for i, r := range out {
		at[key(r)] = i
	}
	changed := 0
	for _, r := range news {
		k := key(r)
		if i, ok := at[k]; ok {
			if !sameJSON(out[i], r) {
				out[i] = r
				changed++
			}
			continue
		}
		at[k] = len(out)
		out = append(out, r)
		changed++
	}
	return out, changed
}

// sameJSON compares records as they are stored: a time read back from a file and the same
// instant from an API differ in location and monotonic clock, not in what is written.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

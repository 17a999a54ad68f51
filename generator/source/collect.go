package source

import (
	"context"
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
	// Deadline, when set, is when collecting stops: the calls not finished by then are recorded
	// as timed_out and every product is written (see Collect).
	Deadline time.Time
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
	// Counts holds the number of outcomes by state (ok, skipped, error, rate_limited, timed_out).
	Counts map[string]int
	// Records counts the deployments, incidents and analytics days added or changed in data/.
	Deployments, Incidents, AnalyticsDays int
	Duration                              time.Duration
	// Damaged are the products whose data is damaged (store.Damage): they were not collected,
	// the others were. Each needs `portfolio repair` (or an upgrade, for a newer schema).
	Damaged []Damaged
	// Already lists the products whose log holds a snapshot at Now already: an earlier run at
	// the same --now collected them, and they were left as they are.
	Already []string
	// Notes say what the store repaired or set aside on the way, one line each: a torn last
	// line moved to a .torn file, snapshots stamped after Now moved to an .ahead file.
	Notes []string
}

// Damaged is one product whose data could not be used.
type Damaged struct {
	Product string
	Err     error
}

// Text is the line a summary shows: "data damaged: file:line: what (hint)".
func (d Damaged) Text() string { return store.DamageText(d.Err) }

// Failed reports whether any source failed (error, rate limited or timed out) for any product,
// or a product's data is damaged: some data is stale.
func (s Summary) Failed() bool {
	return s.Counts[record.StateError]+s.Counts[record.StateRateLimited]+s.Counts[record.StateTimedOut] > 0 || len(s.Damaged) > 0
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
	res  Result
	err  error
	dur  time.Duration
	done bool
}

// errDeadline is what an unfinished call is recorded with when the collect deadline comes.
var errDeadline = &TimedOutError{Msg: "timed out: the collect deadline came first (collected again next run)"}

// TimedOutError is a call that did not finish in the time it had: its own limit (Limits.Timeout)
// or the collect deadline (Options.Deadline). It is recorded as timed_out: stale, like a rate
// limit, and tried again next run.
type TimedOutError struct {
	Msg string
	Err error
}

func (e *TimedOutError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *TimedOutError) Unwrap() error { return e.Err }

// Collect runs every source for every selected product concurrently, bounded per source, and
// appends one snapshot per product to the store as soon as that product's sources have all
// finished, merging each source's fields and upserting the entity records (deployments by ID,
// incidents by number, analytics by day). A job killed halfway loses only the products in
// flight.
//
// A source's error, timeout, panic or rate limit is recorded in the snapshot and never fails the
// run. At Options.Deadline every call still running, or not yet started, is recorded as
// timed_out and the products they belong to are written at once: Collect does not wait for a
// source that ignores its context. Collect returns an error when the store cannot be read or
// written, or when ctx is cancelled (the products finished by then are written, the others
// not). The caller holds the store's lock (run.Collect and run.Run take it), so that no other
// run writes at once.
func Collect(ctx context.Context, o Options) (Summary, error) {
	start := time.Now()
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
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
	// Each product's log is opened first: the last snapshot gives each source its "since" and
	// the status history. A damaged log, or one that holds Now already, leaves its product out.
	products, logs := o.openLogs(products, &sum, o.Log)
	prev := make([]*record.Snapshot, len(products))
	for i, l := range logs {
		if sn, ok := l.Last(); ok {
			prev[i] = &sn
		}
	}

	dctx := ctx
	if !o.Deadline.IsZero() {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, o.Deadline)
		defer cancel()
	}
	c := &collection{o: &o, products: products, logs: logs, prev: prev, start: start,
		slots: make([][]slot, len(products)), remaining: make([]int, len(products)),
		closed: make([]bool, len(products)), out: make([]written, len(products)),
		since: make(map[string]time.Time, len(products))}
	for i, p := range products {
		if prev[i] != nil {
			c.since[p.ID] = prev[i].Time
		}
	}
	for i := range c.slots {
		c.slots[i] = make([]slot, len(o.Sources))
		c.remaining[i] = len(o.Sources)
	}
	for i := range products {
		if len(o.Sources) == 0 {
			c.closeProduct(i)
		}
	}

	calls := make(chan struct{})
	go func() {
		var wg conc.WaitGroup
		for j, src := range o.Sources {
			lim := o.limits(src)
			wg.Go(func() {
				// A batched source asks about every product first; its error stands for each
				// product it does not skip.
				var prepErr error
				if b, ok := src.(Batcher); ok && len(products) > 0 && dctx.Err() == nil {
					prepErr = prepare(dctx, b, products, c.since, lim.Timeout)
				}
				p := pool.New().WithMaxGoroutines(lim.Concurrency)
				for i, prod := range products {
					p.Go(func() { c.run(ctx, dctx, i, j, src, prod, lim, prepErr) })
				}
				p.Wait()
			})
		}
		wg.Wait()
		close(calls)
	}()

	var interrupted error
	select {
	case <-calls:
	case <-dctx.Done():
		if err := ctx.Err(); err != nil {
			interrupted = err
			c.mu.Lock()
			c.stopped = true // no product is closed from now on
			c.mu.Unlock()
			break
		}
		// The deadline: what has not finished is timed out, and written now.
		c.mu.Lock()
		var late []int
		var timedOut []Outcome
		for i, prod := range products {
			if c.closed[i] {
				continue
			}
			for j, src := range o.Sources {
				if !c.slots[i][j].done {
					c.slots[i][j] = slot{err: errDeadline, dur: time.Since(start), done: true}
					timedOut = append(timedOut, o.outcome(prod.ID, src.Name(), c.slots[i][j], prev[i]))
				}
			}
			c.closed[i] = true
			late = append(late, i)
		}
		c.mu.Unlock()
		if o.Observer != nil {
			for _, oc := range timedOut {
				o.Observer.Finished(oc)
			}
		}
		wp := pool.New().WithMaxGoroutines(8)
		for _, i := range late {
			c.writers.Add(1)
			wp.Go(func() { c.write(i) })
		}
		wp.Wait()
		o.Log.Warn("collect deadline reached: unfinished sources recorded as timed_out", "products", len(late))
	}
	c.writers.Wait()

	// Every closed product's slots are final; a call still running writes to none of them.
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	nwritten := 0
	for i, prod := range products {
		if !c.closed[i] {
			continue
		}
		for j, src := range o.Sources {
			oc := o.outcome(prod.ID, src.Name(), c.slots[i][j], prev[i])
			sum.Outcomes = append(sum.Outcomes, oc)
			sum.Counts[oc.Status.State]++
		}
		w := c.out[i]
		sum.Deployments += w.Deployments
		sum.Incidents += w.Incidents
		sum.AnalyticsDays += w.AnalyticsDays
		switch {
		case w.damaged:
			sum.Damaged = append(sum.Damaged, Damaged{Product: prod.ID, Err: w.err})
		case w.err != nil:
			errs = append(errs, w.err)
		default:
			nwritten++
		}
	}
	sum.Duration = time.Since(start)
	if interrupted != nil {
		errs = append(errs, fmt.Errorf("collect interrupted: %d of %d products written, the others not: %w", nwritten, len(products), interrupted))
	}
	return sum, errors.Join(errs...)
}

// collection is one Collect run's shared state: the slots, which products are closed (final:
// written or being written) and what each write did.
type collection struct {
	o        *Options
	products []config.Product
	logs     []*store.Log
	prev     []*record.Snapshot
	since    map[string]time.Time // each product's previous snapshot's time
	start    time.Time

	mu        sync.Mutex
	slots     [][]slot
	remaining []int  // unfinished calls per product
	closed    []bool // the product's slots are final
	stopped   bool   // Ctrl-C: no product is closed any more
	out       []written
	writers   sync.WaitGroup
}

// written is what writing one product did.
type written struct {
	store.Upserted
	err     error
	damaged bool
}

// run makes one call and, when it was the product's last, writes the product.
func (c *collection) run(ctx, dctx context.Context, i, j int, src Source, prod config.Product, lim Limits, prepErr error) {
	if dctx.Err() != nil {
		return // the deadline or Ctrl-C came before this call started
	}
	since := c.since[prod.ID]
	if c.o.Observer != nil {
		c.o.Observer.Started(prod.ID, src.Name())
	}
	t0 := time.Now()
	res, err := call(dctx, src, prod, since, lim.Timeout)
	if prepErr != nil && !isSkip(err) {
		res, err = Result{}, prepErr
	}
	sl := slot{res: res, err: err, dur: time.Since(t0), done: true}
	if err != nil && ctx.Err() == nil && dctx.Err() != nil {
		sl.err = errDeadline // the deadline cut the call short
	}
	c.mu.Lock()
	if c.closed[i] || c.stopped || ctx.Err() != nil {
		c.mu.Unlock() // too late: the deadline wrote the product, or Ctrl-C
		return
	}
	c.slots[i][j] = sl
	c.remaining[i]--
	last := c.remaining[i] == 0
	if last {
		c.closed[i] = true
		c.writers.Add(1)
	}
	c.mu.Unlock()
	if c.o.Observer != nil {
		c.o.Observer.Finished(c.o.outcome(prod.ID, src.Name(), sl, c.prev[i]))
	}
	if last {
		c.write(i)
	}
}

// closeProduct writes a product with no source at all.
func (c *collection) closeProduct(i int) {
	c.closed[i] = true
	c.writers.Add(1)
	c.write(i)
}

// write appends product i's snapshot and upserts its records; its slots are final. The caller
// did c.writers.Add(1).
func (c *collection) write(i int) {
	defer c.writers.Done()
	o, prod := c.o, c.products[i]
	snap := record.Snapshot{Time: o.Now.UTC(), Sources: map[string]record.SourceStatus{}}
	recs := make([]store.Records, len(o.Sources))
	ocs := make([]Outcome, len(o.Sources))
	for j, src := range o.Sources {
		sl := o.screen(src, prod, c.slots[i][j])
		c.slots[i][j] = sl // final: only this writer touches it, and the summary reads it after
		oc := o.outcome(prod.ID, src.Name(), sl, c.prev[i])
		ocs[j] = oc
		snap.Sources[src.Name()] = oc.Status
		if oc.Status.State != record.StateSkipped {
			mergeSnapshot(&snap, sl.res.Snapshot)
			recs[j] = store.Records{Deployments: sl.res.Deployments, Incidents: sl.res.Incidents, Analytics: sl.res.Analytics}
		}
		if oc.Status.Failed() {
			o.Log.Debug("source failed", "product", prod.ID, "source", src.Name(), "state", oc.Status.State, "msg", oc.Status.Msg)
		}
	}
	var w written
	if err := c.logs[i].Append(snap); err != nil {
		w.err = fmt.Errorf("collect %s: append snapshot: %w", prod.ID, err)
	} else {
		for _, r := range recs {
			u, err := o.Store.UpsertRecords(prod.ID, r, o.Now)
			w.Deployments += u.Deployments
			w.Incidents += u.Incidents
			w.AnalyticsDays += u.AnalyticsDays
			if err != nil {
				w.err = fmt.Errorf("collect %s: %w", prod.ID, err)
				_, w.damaged = store.Damage(err)
				break
			}
		}
	}
	c.mu.Lock()
	c.out[i] = w
	c.mu.Unlock()
	if o.Observer != nil {
		o.Observer.ProductDone(prod.ID, ocs)
	}
}

// openLogs opens each product's snapshot log and returns the products to collect, with their
// logs. A damaged log puts its product in sum.Damaged; a log whose last snapshot is at Now
// (an earlier run at the same --now) in sum.Already; snapshots after Now (a clock that ran
// ahead) are set aside so collection goes on. What the store repaired goes to sum.Notes.
func (o *Options) openLogs(products []config.Product, sum *Summary, log *slog.Logger) ([]config.Product, []*store.Log) {
	now := o.Now.UTC()
	type opened struct {
		l     *store.Log
		err   error
		notes []string
	}
	res := make([]opened, len(products))
	p := pool.New().WithMaxGoroutines(8)
	for i, prod := range products {
		p.Go(func() {
			l, err := o.Store.OpenLog(prod.ID)
			if err != nil {
				res[i].err = err
				return
			}
			res[i].l, res[i].notes = l, l.Repaired
			if last, ok := l.Last(); ok && last.Time.After(now) {
				notes, err := l.SetAside(now)
				res[i].notes = append(res[i].notes, notes...)
				res[i].err = err
			}
		})
	}
	p.Wait()
	var keep []config.Product
	var logs []*store.Log
	for i, prod := range products {
		r := res[i]
		sum.Notes = append(sum.Notes, r.notes...)
		for _, n := range r.notes {
			log.Warn("data repaired", "product", prod.ID, "what", n)
		}
		if r.err != nil {
			sum.Damaged = append(sum.Damaged, Damaged{Product: prod.ID, Err: fmt.Errorf("collect %s: %w", prod.ID, r.err)})
			log.Error("data damaged: product not collected", "product", prod.ID, "err", r.err)
			continue
		}
		if last, ok := r.l.Last(); ok && last.Time.Equal(now) {
			sum.Already = append(sum.Already, prod.ID)
			continue
		}
		keep = append(keep, prod)
		logs = append(logs, r.l)
	}
	return keep, logs
}

// screen validates what a source returned before it is stored, as the store would: a record
// or a snapshot field that fails (record's Validate) is dropped, and the source's call becomes
// an error that names the endpoint (Endpoints) and the field, so the refusal is seen.
func (o *Options) screen(src Source, p config.Product, sl slot) slot {
	if sl.err != nil {
		return sl
	}
	var refused []error
	if sn := sl.res.Snapshot; sn.Probe != nil || sn.HTTP != nil || sn.Health != "" || sn.Worker != nil {
		sn.Time, sn.Sources = o.Now.UTC(), nil
		if err := sn.Validate(o.Now); err != nil {
			refused = append(refused, fmt.Errorf("%s: %w", endpoint(src, p, KindSnapshot), err))
			sl.res.Snapshot = record.Snapshot{}
		}
	}
	sl.res.Deployments = keepValid(sl.res.Deployments, o.Now, endpoint(src, p, KindDeployment), &refused)
	sl.res.Incidents = keepValid(sl.res.Incidents, o.Now, endpoint(src, p, KindIncident), &refused)
	sl.res.Analytics = keepValid(sl.res.Analytics, o.Now, endpoint(src, p, KindAnalytics), &refused)
	if len(refused) > 0 {
		msg := refused[0].Error()
		if len(refused) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(refused)-1)
		}
		sl.err = fmt.Errorf("%d record(s) refused, not stored: %s", len(refused), msg)
	}
	return sl
}

func keepValid[T interface{ Validate(time.Time) error }](recs []T, now time.Time, where string, refused *[]error) []T {
	out := recs[:0:0]
	for _, r := range recs {
		if err := r.Validate(now); err != nil {
			*refused = append(*refused, fmt.Errorf("%s: %w", where, err))
			continue
		}
		out = append(out, r)
	}
	return out
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
		err = &TimedOutError{Msg: fmt.Sprintf("timed out after %s", timeout), Err: err}
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
		err = &TimedOutError{Msg: fmt.Sprintf("timed out after %s", timeout), Err: err}
	}
	return err
}

// outcome turns a call's result into the status recorded for it, with LastOK and Fails carried
// over from the previous snapshot.
func (o *Options) outcome(product, source string, sl slot, prev *record.Snapshot) Outcome {
	st := record.SourceStatus{State: record.StateOK}
	var rl *RateLimitedError
	var to *TimedOutError
	switch {
	case sl.err == nil:
	case isSkip(sl.err):
		st = record.SourceStatus{State: record.StateSkipped, Msg: o.Redactor.String(sl.err.Error())}
	case errors.As(sl.err, &rl):
		st = record.SourceStatus{State: record.StateRateLimited, Msg: o.Redactor.String(sl.err.Error())}
	case errors.As(sl.err, &to):
		st = record.SourceStatus{State: record.StateTimedOut, Msg: o.Redactor.String(sl.err.Error())}
	default:
		st = record.SourceStatus{State: record.StateError, Msg: o.Redactor.String(sl.err.Error())}
	}
	var before record.SourceStatus // zero: the source has no status yet
	var at time.Time
	if prev != nil {
		before, at = prev.Sources[source], prev.Time
	}
	st = before.Next(at, st.State, st.Msg)
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

package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/progress"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/cloudflare"
	"github.com/portfolio-report/portfolio/generator/source/github"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/source/probe"
	"github.com/portfolio-report/portfolio/generator/store"
)

// SourceDeps is what the source constructors are built from.
type SourceDeps struct {
	Config *config.Config
	Store  *store.Store
	Getenv func(string) string
	HTTP   *http.Client // shared transport; each source wraps it with its own limits
	Log    *slog.Logger
	Now    func() time.Time // the run's clock: the end of every analytics range
	// Sleep waits between every source's retries (tests: one that does not sleep); nil:
	// retry.Sleep.
	Sleep retry.Sleeper
	// Redactor scrubs what a source stores beside its data (probe failures); nil: URL
	// credentials only.
	Redactor *redact.Redactor
}

// sourceConstructor builds one source from the environment.
type sourceConstructor struct {
	name  string
	build func(d SourceDeps) (source.Source, error)
}

// sourceRegistry is the name → constructor registry, in the order sources appear in output.
// A source whose credentials are missing is still built: it reports every product as skipped
// with the reason, so a reader of the site sees why data is missing.
func sourceRegistry() []sourceConstructor {
	return []sourceConstructor{
		{record.SourceGitHub, func(d SourceDeps) (source.Source, error) {
			o := github.OptionsFromEnv(d.Getenv)
			// The previous DORA window and each deployment's predecessor must be in history.
			if d.Config != nil && d.Config.DORA.WindowDays > 0 {
				o.HistoryDays = 2*d.Config.DORA.WindowDays + 1
			}
			o.Now, o.Sleep = d.Now, d.Sleep
			return github.New(o, d.Store, d.HTTP, d.Log.With("source", record.SourceGitHub)), nil
		}},
		{record.SourceCloudflare, func(d SourceDeps) (source.Source, error) {
			o := cloudflare.OptionsFromEnv(d.Getenv)
			o.Now, o.Sleep = d.Now, d.Sleep
			o.Store = d.Store
			return cloudflare.New(o, d.HTTP, d.Log.With("source", record.SourceCloudflare))
		}},
		{record.SourcePostHog, func(d SourceDeps) (source.Source, error) {
			o := posthog.OptionsFromEnv(d.Getenv)
			o.Now, o.Sleep = d.Now, d.Sleep
			return posthog.New(o, d.HTTP, d.Log.With("source", record.SourcePostHog)), nil
		}},
		{record.SourceProbe, func(d SourceDeps) (source.Source, error) {
			p := probe.New(d.HTTP, d.Log.With("source", record.SourceProbe))
			p.Sleep, p.Redactor = d.Sleep, d.Redactor
			return p, nil
		}},
	}
}

// SourceNames lists the registered sources in order.
func SourceNames() []string {
	var names []string
	for _, c := range sourceRegistry() {
		names = append(names, c.name)
	}
	return names
}

// Sources builds the registered sources, all of them or those named in only.
func Sources(d SourceDeps, only ...string) ([]source.Source, error) {
	if d.Getenv == nil || d.Store == nil {
		return nil, fmt.Errorf("sources: want Getenv and Store")
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	known := SourceNames()
	for _, n := range only {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown source %q: want one of %s", n, strings.Join(known, ", "))
		}
	}
	var out []source.Source
	for _, c := range sourceRegistry() {
		if len(only) > 0 && !slices.Contains(only, c.name) {
			continue
		}
		s, err := c.build(d)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", c.name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// sourceDeps are the sources' share of the options.
func (o Options) sourceDeps() SourceDeps {
	now := o.Now
	return SourceDeps{Config: o.Config, Store: o.Store, Getenv: o.Getenv, HTTP: o.HTTP.Sources, Log: o.Log,
		Now: func() time.Time { return now }, Sleep: o.Sleep, Redactor: o.Redactor}
}

// Collect is `portfolio collect`: it runs the sources (all, or those in o.Sources) for the
// shard's products under the data lock and appends a snapshot per product. It refuses demo data
// (store.Meta.Rules: read only). A source that fails is in the summary, not an error; the error
// is for what stops the collect (bad options, the lock, a write). An unknown source is a
// *UsageError.
func Collect(ctx context.Context, o Options) (source.Summary, error) {
	o = o.withDefaults()
	meta, err := o.Store.Meta()
	if err != nil {
		return source.Summary{}, err
	}
	if meta.Rules().ReadOnly {
		return source.Summary{}, errReadOnly(o.Store.Dir())
	}
	o.clock(meta.Rules())
	srcs, err := Sources(o.sourceDeps(), o.Sources...)
	if err != nil {
		return source.Summary{}, &UsageError{err}
	}
	unlock, err := o.lock(ctx)
	if err != nil {
		return source.Summary{}, fmt.Errorf("collect: lock data: %w", err)
	}
	defer unlock()
	return o.collect(ctx, srcs)
}

// collect runs srcs for the shard's products; the caller holds the data lock.
func (o Options) collect(ctx context.Context, srcs []source.Source) (source.Summary, error) {
	var prog Progress
	var obs source.Observer
	if o.Progress != nil {
		n := 0
		for k := range o.Config.Products {
			if o.Shard.Selects(k) {
				n++
			}
		}
		prog = o.Progress(n * len(srcs))
		obs = prog
	}
	sum, err := source.Collect(ctx, source.Options{
		Products: o.Config.Products,
		Sources:  srcs,
		Store:    o.Store,
		Now:      o.Now,
		Shard:    o.Shard,
		Observer: obs,
		Log:      o.Log,
		Redactor: o.Redactor,
		Deadline: o.Deadline,
	})
	if prog != nil {
		prog.Finish(sum)
	}
	if serr := progress.AppendStepSummary(o.Getenv, sum); serr != nil {
		o.Log.Warn("could not write the step summary", "err", serr)
	}
	return sum, err
}

// collectStep is the run's first step: collect every source, then send PostHog events.
func (o Options) collectStep(ctx context.Context, rep *Report) {
	srcs, err := Sources(o.sourceDeps(), o.Sources...)
	if err != nil {
		rep.fail(StepCollect, err)
		return
	}
	sum, err := o.collect(ctx, srcs)
	if err != nil {
		rep.fail(StepCollect, err)
		return
	}
	state := StateOK
	if sum.Failed() {
		state = StateWarning
		rep.worsen(SourcesFailed)
	}
	rep.add(StepCollect, state, progress.SummaryLine(sum))
	for _, d := range sum.Damaged {
		rep.damage(d.Product, d.Text())
	}
	for _, n := range sum.Notes {
		rep.sub("data", StateRepaired, n)
	}
	for _, r := range skippedSources(sum) {
		rep.sub(r.name, StateSkipped, r.reason)
	}
	if !o.DryRun {
		o.sendPostHogEvents(ctx, rep)
	}
}

// errReadOnly is why collect refuses demo data.
func errReadOnly(dir string) error {
	return errors.New(dir + " holds the demo history written by 'portfolio demo'; collecting into it would mix real and made-up data: use --data with an empty folder")
}

// skipLine is a source that is or would be skipped, and why.
type skipLine struct{ name, reason string }

// readiness asks each source, without calling anything, what it lacks. It is for runs that
// collect nothing (demo data), so the user still learns what to set.
func readiness(srcs []source.Source) []skipLine {
	var out []skipLine
	for _, s := range srcs {
		r, ok := s.(source.Readier)
		if !ok {
			out = append(out, skipLine{s.Name(), "needs no credentials; not run against demo data"})
			continue
		}
		reason := "credentials set; not collected into demo data"
		if err := r.Ready(); err != nil {
			reason = err.Error()
		}
		out = append(out, skipLine{s.Name(), reason})
	}
	return out
}

// skippedSources lists each source skipped for every product with its reason (one line per
// source), and product-specific skips as one line each.
func skippedSources(sum source.Summary) []skipLine {
	reasons := map[string]map[string][]string{} // source → reason → products
	for _, o := range sum.Outcomes {
		if o.Status.State != record.StateSkipped {
			continue
		}
		if reasons[o.Source] == nil {
			reasons[o.Source] = map[string][]string{}
		}
		reasons[o.Source][o.Status.Msg] = append(reasons[o.Source][o.Status.Msg], o.Product)
	}
	var out []skipLine
	for _, src := range sum.Sources {
		byReason := reasons[src]
		msgs := make([]string, 0, len(byReason))
		for m := range byReason {
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		for _, m := range msgs {
			ps := byReason[m]
			who := "all products"
			if len(ps) < len(sum.Products) {
				who = strings.Join(ps, ", ")
			}
			out = append(out, skipLine{src, fmt.Sprintf("%s (%s)", m, who)})
		}
	}
	return out
}

// sendPostHogEvents sends the portfolio's own events (deployments, incidents of the last 7
// days) to PostHog once each, when POSTHOG_API_KEY is set. A failure is a warning: analytics
// never fail a run.
func (o Options) sendPostHogEvents(ctx context.Context, rep *Report) {
	po := posthog.OptionsFromEnv(o.Getenv)
	po.Now, po.Sleep = o.sourceDeps().Now, o.Sleep
	sender := posthog.NewSender(po, o.Store, o.HTTP.Sources, o.Log.With("sender", record.SourcePostHog))
	if !sender.Enabled() {
		return
	}
	events, err := posthog.EventsFromStore(o.Store, o.Config.Products, o.Now.AddDate(0, 0, -7))
	if err == nil {
		err = sender.Send(ctx, events)
	}
	if err != nil {
		rep.sub("posthog events", StateWarning, err.Error())
		return
	}
	rep.sub("posthog events", StateOK, fmt.Sprintf("%d events up to date", len(events)))
}

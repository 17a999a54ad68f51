// Package run is portfolio's pipeline, a library call: Run collects every source into the store,
// evaluates the alerts and notifies, builds the site and publishes it, in that order, under the
// data lock, and returns a Report. Collect, Alert and Publish are the single steps the
// `collect`, `alert` and `publish` commands call. The registries live here too: which sources
// (sources.go), channels (channels.go) and publishers (publish.go) exist and how each is built
// from the config and the environment.
//
// Everything the pipeline depends on comes in through Options: the clock, the environment, the
// HTTP clients, the sleep between retries, the redactor and the logger, so tests run it against
// local fakes without waiting out real backoffs.
package run

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// The steps of a run, in the order they run.
const (
	StepCollect = "collect"
	StepAlert   = "alert"
	StepBuild   = "build"
	StepPublish = "publish"
)

// Steps lists the steps in order.
func Steps() []string { return []string{StepCollect, StepAlert, StepDigest, StepBuild, StepPublish} }

// Options configure Run and the single steps.
type Options struct {
	// What the run works on.
	Config *config.Config // loaded, defaults applied
	Store  *store.Store
	Out    string // the folder the site is built into and published from
	FS     fs.FS  // templates/ and static/ (nil: the embedded ones)

	// What the run depends on; tests replace each one.
	// Now is the run's clock: snapshots, alerts and pages are as of Now. Zero: the data's own
	// clock (store.Rules.Clock: demo data is shown as of its last snapshot), else the current time.
	Now    time.Time
	Getenv func(string) string // credentials and base URLs (nil: os.Getenv)
	HTTP   Clients
	// Sleep waits between the retries of every client, source, channel and publisher (nil:
	// retry.Sleep). Tests pass one that returns at once.
	Sleep retry.Sleeper
	// Redactor scrubs every secret from what leaves the run: recorded messages, the alert
	// state, pages, errors and the Report (nil: URL credentials only). The log's handler is
	// the caller's to wrap (Redactor.Handler).
	Redactor *redact.Redactor
	Log      *slog.Logger
	// Progress, when set, is called once before collecting with the number of calls to be
	// made, and hears how the collect goes (a progress.Reporter).
	Progress func(calls int) Progress

	// What to do.
	DryRun  bool     // send no notification, save no alert state, send no event, publish nothing
	Skip    []string // steps left out (Steps)
	Shard   source.Shard
	Sources []string // collect only these sources (default: all)
	Publish PublishOptions
	// Deadline, when set, is when collecting stops: every source unfinished by then is recorded
	// as timed_out and what was collected is written; the steps after collect still run.
	Deadline time.Time
	// LockTimeout bounds the wait for the data lock (0: until ctx ends).
	LockTimeout time.Duration
}

// Clients are the HTTP clients of a run, by what they reach. A nil field gets a client with a
// timeout fit for its job.
type Clients struct {
	Sources  *http.Client // the API sources, the probes and PostHog events (default: 60 s timeout)
	Channels *http.Client // the notification channels (default: each channel's own)
	Publish  *http.Client // the publisher (default: 5 min timeout, for uploads)
}

// Progress hears how collect goes.
type Progress interface {
	source.Observer
	// Finish comes once, after the last call, with the summary.
	Finish(sum source.Summary)
}

// UsageError is a mistake in the options (an unknown step or source): the caller's to fix.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.HTTP.Sources == nil {
		o.HTTP.Sources = &http.Client{Timeout: 60 * time.Second}
	}
	if o.HTTP.Publish == nil {
		o.HTTP.Publish = &http.Client{Timeout: 5 * time.Minute}
	}
	if o.Sleep == nil {
		o.Sleep = retry.Sleep
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// clock sets Now when it is zero: the data's own clock, else the current time.
func (o *Options) clock(rules store.Rules) {
	switch {
	case !o.Now.IsZero():
	case !rules.Clock.IsZero():
		o.Now = rules.Clock
	default:
		o.Now = time.Now().UTC().Truncate(time.Second)
	}
}

func (o Options) skips(step string) bool { return slices.Contains(o.Skip, step) }

// checkSkip reports a step in Skip that does not exist.
func (o Options) checkSkip() error {
	for _, s := range o.Skip {
		if !slices.Contains(Steps(), s) {
			return &UsageError{fmt.Errorf("unknown step %q; want some of %s", s, strings.Join(Steps(), ", "))}
		}
	}
	return nil
}

// lock takes the data lock, waiting at most LockTimeout; the returned function releases it,
// logging a failure.
func (o Options) lock(ctx context.Context) (func(), error) {
	if o.LockTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.LockTimeout)
		defer cancel()
	}
	unlock, err := o.Store.Lock(ctx, o.Log)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := unlock(); err != nil {
			o.Log.Warn("could not release the data lock", "err", err)
		}
	}, nil
}

// Run runs the steps in order under the data lock and reports what each did. A failed step
// stops the steps that need its output (a failed build publishes nothing) but not the others;
// a source that fails is recorded and the run goes on (Report.Outcome says so).
//
// On demo data (store.Meta.Rules: read only) nothing is collected and no alert state is
// written: the run builds and publishes the site from the data as it is, and says for each
// source what it would need.
//
// Run returns an error only when it cannot start (bad options, unreadable metadata, the lock)
// or is cancelled; a *UsageError for bad options.
func Run(ctx context.Context, o Options) (Report, error) {
	o = o.withDefaults()
	if err := o.checkSkip(); err != nil {
		return Report{Now: o.Now}, err
	}
	meta, err := o.Store.Meta()
	if err != nil {
		return Report{Now: o.Now}, err
	}
	rules := meta.Rules()
	o.clock(rules)
	rep := Report{Now: o.Now, Demo: meta.Demo()}
	if !rules.ReadOnly {
		unlock, err := o.lock(ctx)
		if err != nil {
			return rep, err
		}
		defer unlock()
	}

	// 1. collect → store
	switch {
	case o.skips(StepCollect):
		rep.add(StepCollect, StateSkipped, "--skip")
		// What is in data/ may have been collected elsewhere (a sharded run's shards, merged by
		// portfolio shards merge): its deployment events still go to PostHog, once each.
		if !rules.ReadOnly && !o.DryRun {
			o.sendPostHogEvents(ctx, &rep)
		}
	case rules.ReadOnly:
		rep.add(StepCollect, StateSkipped, fmt.Sprintf("%s holds the demo history written by 'portfolio demo': left untouched (collect into an empty --data folder to start real history)", o.Store.Dir()))
		srcs, err := Sources(o.sourceDeps())
		if err != nil {
			return rep, err
		}
		for _, r := range readiness(srcs) {
			rep.sub(r.name, StateSkipped, r.reason)
		}
	default:
		o.collectStep(ctx, &rep)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}

	// 2. compute + alert
	switch {
	case o.skips(StepAlert):
		rep.add(StepAlert, StateSkipped, "--skip")
	case rules.ReadOnly:
		rep.add(StepAlert, StateSkipped, "demo data: the alert state in data/ is the demo's")
	default:
		o.alertStep(ctx, &rep)
	}

	// 2b. the weekly digest, once per period and channel
	switch {
	case o.skips(StepDigest):
		rep.add(StepDigest, StateSkipped, "--skip")
	case rules.ReadOnly:
		rep.add(StepDigest, StateSkipped, "demo data: no digest is sent ('portfolio digest --dry-run' shows it)")
	default:
		o.digestStep(ctx, &rep)
	}

	// 3. build
	built := false
	switch {
	case o.skips(StepBuild):
		rep.add(StepBuild, StateSkipped, "--skip")
	default:
		res, err := site.Build(ctx, site.Options{Config: o.Config, Store: o.Store, Out: o.Out, Now: o.Now, FS: o.FS, Log: o.Log, Redactor: o.Redactor})
		if err != nil {
			rep.fail(StepBuild, err)
			break
		}
		built = true
		state := StateOK
		if len(res.Damaged) > 0 {
			state = StateWarning
		}
		rep.add(StepBuild, state, fmt.Sprintf("%d pages, %d files, %s in %s", res.Pages, res.Files, ByteSize(res.Bytes), o.Out))
		for _, d := range res.Damaged {
			rep.damage(d.Product, d.Text)
		}
	}

	// 4. publish
	switch {
	case o.skips(StepPublish):
		rep.add(StepPublish, StateSkipped, "--skip")
	case !built && !o.skips(StepBuild):
		rep.add(StepPublish, StateSkipped, "the build failed")
	case o.DryRun:
		rep.add(StepPublish, StateSkipped, "--dry-run")
	default:
		res, err := publishSite(ctx, o)
		switch {
		case err != nil:
			rep.fail(StepPublish, err)
		case res.Skipped != "":
			rep.add(StepPublish, StateSkipped, res.Skipped)
		default:
			rep.add(StepPublish, StateOK, res.Deployment.Summary()) // the summary names the URL
		}
	}
	for i := range rep.Rows { // a step's error may quote an API
		rep.Rows[i].Detail = o.Redactor.String(rep.Rows[i].Detail)
	}
	return rep, nil
}

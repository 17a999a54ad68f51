package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/progress"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
)

// The steps of `portfolio run`, in order.
const (
	stepCollect = "collect"
	stepAlert   = "alert"
	stepBuild   = "build"
	stepPublish = "publish"
)

var runSteps = []string{stepCollect, stepAlert, stepBuild, stepPublish}

// stepResult is one line of the run summary.
type stepResult struct {
	name   string
	state  string // ok | skipped | failed | warning
	detail string
}

// runReport collects what each step did, for the one-screen summary.
type runReport struct {
	steps   []stepResult
	code    int // the exit code so far
	started time.Time
}

func (r *runReport) add(name, state, detail string) {
	r.steps = append(r.steps, stepResult{name, state, firstLine(detail)})
}

// firstLine keeps a summary row to one line: the first line of s and how many more there were.
func firstLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%s (+%d more)", lines[0], len(lines)-1)
}

func (a *app) runCommand() *cobra.Command {
	var (
		dryRun bool
		skip   []string
		pf     publishFlags
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The scheduled job: collect, store, alert, build and publish",
		Long: `run is what CI runs every 15 minutes: collect every source into --data, evaluate
alerts and notify, build the site into --out, and publish it to Cloudflare Pages.

A source without credentials is skipped with its reason; one that fails is recorded as
failed in its snapshot and the run goes on (exit 3). When --data holds the demo history
written by 'portfolio demo', nothing is collected and no alert state is written: the run
builds the site from the committed example data and leaves data/ untouched.

--dry-run sends no notification, saves no alert state and publishes nothing.
--skip collect,alert,build,publish leaves steps out.

Exit codes: 0 ok, 1 a step failed, 2 bad usage or config, 3 finished but some source failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			for _, s := range skip {
				if !slices.Contains(runSteps, s) {
					return withCode(ExitUsage, fmt.Errorf("--skip: unknown step %q; want some of %s", s, strings.Join(runSteps, ", ")))
				}
			}
			pf.dryRun = pf.dryRun || dryRun
			pf.summarised = true
			return a.runPipeline(cmd.Context(), cfg, runOptions{dryRun: dryRun, skip: skip, publish: pf})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "send no notification, save no alert state, publish nothing")
	f.StringSliceVar(&skip, "skip", nil, "steps to leave out: "+strings.Join(runSteps, ","))
	f.StringVar(&pf.branch, "branch", "", "publish to this branch: a preview unless it is the production branch")
	return cmd
}

type runOptions struct {
	dryRun  bool
	skip    []string
	publish publishFlags
}

// runPipeline runs the steps in order under the store lock and prints the summary. A failed step
// stops the steps that need its output (a failed build publishes nothing) but not the others.
func (a *app) runPipeline(ctx context.Context, cfg *config.Config, o runOptions) error {
	rep := &runReport{started: time.Now()}
	st := a.store()
	meta, err := st.Meta()
	if err != nil {
		return withCode(ExitFailure, err)
	}
	demo := meta.Demo()

	if !demo {
		unlock, err := st.Lock(ctx, a.log)
		if err != nil {
			return withCode(ExitFailure, err)
		}
		defer func() {
			if err := unlock(); err != nil {
				a.log.Warn("could not release the data lock", "err", err)
			}
		}()
	}

	// 1. collect → store
	switch {
	case slices.Contains(o.skip, stepCollect):
		rep.add(stepCollect, "skipped", "--skip")
	case demo:
		rep.add(stepCollect, "skipped", fmt.Sprintf("%s holds the demo history written by 'portfolio demo': left untouched (collect into an empty --data folder to start real history)", a.dataDir))
		for _, r := range sourceReadiness(cfg, a.getenv) {
			rep.add("  "+r.name, "skipped", r.reason)
		}
	default:
		sum, err := a.collect(ctx, cfg, st, source.Shard{}, nil, true)
		switch {
		case err != nil:
			rep.add(stepCollect, "failed", err.Error())
			rep.code = ExitFailure
		default:
			state := "ok"
			if sum.Failed() {
				state = "warning"
				rep.code = ExitSourcesFailed
			}
			rep.add(stepCollect, state, progress.SummaryLine(sum))
			for _, line := range skippedSources(sum) {
				rep.add("  "+line.name, "skipped", line.reason)
			}
			if !o.dryRun {
				a.sendPostHogEvents(ctx, cfg, st, rep)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return withCode(ExitFailure, err)
	}

	// 2. compute + alert
	switch {
	case slices.Contains(o.skip, stepAlert):
		rep.add(stepAlert, "skipped", "--skip")
	case demo:
		rep.add(stepAlert, "skipped", "demo data: the alert state in data/ is the demo's")
	default:
		a.runAlert(ctx, cfg, st, o.dryRun, rep)
	}

	// 3. build
	built := false
	switch {
	case slices.Contains(o.skip, stepBuild):
		rep.add(stepBuild, "skipped", "--skip")
	default:
		res, err := a.runBuild(ctx, cfg, st)
		if err != nil {
			rep.add(stepBuild, "failed", err.Error())
			rep.code = ExitFailure
		} else {
			built = true
			rep.add(stepBuild, "ok", fmt.Sprintf("%d pages, %d files, %s in %s", res.Pages, res.Files, byteSize(res.Bytes), a.outDir))
		}
	}

	// 4. publish
	switch {
	case slices.Contains(o.skip, stepPublish):
		rep.add(stepPublish, "skipped", "--skip")
	case !built && !slices.Contains(o.skip, stepBuild):
		rep.add(stepPublish, "skipped", "the build failed")
	case o.dryRun:
		rep.add(stepPublish, "skipped", "--dry-run")
	default:
		d, err := a.publishSite(ctx, cfg, o.publish)
		reason, skipped := skip.Reason(err)
		switch {
		case skipped:
			rep.add(stepPublish, "skipped", reason)
		case err != nil:
			rep.add(stepPublish, "failed", err.Error())
			rep.code = ExitFailure
		default:
			rep.add(stepPublish, "ok", d.Summary()) // the summary names the URL
		}
	}

	a.printRunSummary(a.stdout, rep, demo)
	if rep.code != ExitOK {
		return withCode(rep.code, errSilent)
	}
	return nil
}

// sendPostHogEvents sends the portfolio's own events (deployments, incidents) to PostHog once
// each, when POSTHOG_API_KEY is set. A failure is a warning: analytics never fail a run.
func (a *app) sendPostHogEvents(ctx context.Context, cfg *config.Config, st *store.Store, rep *runReport) {
	now := a.now
	sender := run.PostHogSender(run.SourceDeps{Config: cfg, Store: st, Getenv: a.getenv, Log: a.log,
		Now: func() time.Time { return now }})
	if !sender.Enabled() {
		return
	}
	events, err := posthogEventsSince(st, cfg, now.AddDate(0, 0, -7))
	if err == nil {
		err = sender.Send(ctx, events)
	}
	if err != nil {
		rep.add("  posthog events", "warning", err.Error())
		return
	}
	rep.add("  posthog events", "ok", fmt.Sprintf("%d events up to date", len(events)))
}

// readiness is why a source would be skipped.
type readiness struct{ name, reason string }

// sourceReadiness says, without calling anything, which sources lack what they need. It is for
// runs that collect nothing (demo data), so the user still learns what to set.
func sourceReadiness(cfg *config.Config, getenv func(string) string) []readiness {
	need := []struct {
		name string
		envs []string
	}{
		{"github", []string{config.EnvGitHubToken}},
		{"cloudflare", []string{config.EnvCloudflareToken}},
		{"posthog", []string{config.EnvPostHogHost, config.EnvPostHogPersonalKey, config.EnvPostHogProjectID}},
	}
	var out []readiness
	for _, n := range need {
		var missing []string
		for _, e := range n.envs {
			if getenv(e) == "" {
				missing = append(missing, e)
			}
		}
		reason := "credentials set; not collected into demo data"
		if len(missing) > 0 {
			reason = strings.Join(missing, ", ") + " not set"
		}
		out = append(out, readiness{n.name, reason})
	}
	out = append(out, readiness{"probe", "probes need no credentials; not run against demo data"})
	return out
}

// skippedSources lists each source skipped for every product with its reason (one line per
// source), and product-specific skips as one line each.
func skippedSources(sum source.Summary) []readiness {
	reasons := map[string]map[string][]string{} // source → reason → products
	for _, o := range sum.Outcomes {
		if o.Status.State != "skipped" {
			continue
		}
		if reasons[o.Source] == nil {
			reasons[o.Source] = map[string][]string{}
		}
		reasons[o.Source][o.Status.Msg] = append(reasons[o.Source][o.Status.Msg], o.Product)
	}
	var out []readiness
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
			out = append(out, readiness{src, fmt.Sprintf("%s (%s)", m, who)})
		}
	}
	return out
}

// printRunSummary prints the one-screen summary at the end of a run.
func (a *app) printRunSummary(w io.Writer, rep *runReport, demo bool) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "portfolio run at %s", a.now.Format(time.RFC3339))
	if demo {
		fmt.Fprint(w, " (demo data)")
	}
	fmt.Fprintln(w)
	for _, s := range rep.steps {
		fmt.Fprintf(w, "  %-18s %-8s %s\n", s.name, s.state, a.redactor.String(s.detail)) // a step's error may quote an API
	}
	if _, err := os.Stat(filepath.Join(a.outDir, "index.html")); err == nil {
		fmt.Fprintf(w, "Preview: portfolio serve --out %s, then open http://localhost:3000\n", a.outDir)
	}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// runBuild renders the site from the store into --out.
func (a *app) runBuild(ctx context.Context, cfg *config.Config, st *store.Store) (site.Result, error) {
	return site.Build(ctx, site.Options{Config: cfg, Store: st, Out: a.outDir, Now: a.now, Log: a.log, Redactor: a.redactor})
}

// posthogEventsSince lists the deployment and incident events of the last days for PostHog.
func posthogEventsSince(st *store.Store, cfg *config.Config, since time.Time) ([]posthog.Event, error) {
	return posthog.EventsFromStore(st, cfg.Products, since)
}

// runAlert evaluates the alert rules, notifies and saves the state (dry: only lists what is due).
// A failing channel is a warning in the summary, not a failed run: its sends are retried next
// run and the other channels went out.
func (a *app) runAlert(ctx context.Context, cfg *config.Config, st *store.Store, dryRun bool, rep *runReport) {
	sum, err := a.evaluateAlerts(ctx, cfg, st, dryRun)
	if err != nil {
		rep.add(stepAlert, "failed", err.Error())
		rep.code = ExitFailure
		return
	}
	state := "ok"
	if len(sum.FailingChannels()) > 0 {
		state = "warning"
	}
	rep.add(stepAlert, state, alertSummaryLine(sum))
	// What fired or resolved in this run, one row each: the counts alone do not say which.
	inhibited := map[string]bool{}
	for _, f := range sum.Firing {
		inhibited[f.Fingerprint] = f.Inhibited
	}
	for _, t := range sum.Transitions {
		detail := fmt.Sprintf("[%s] %s", t.Severity, alert.Alert{Rule: t.Rule, Subject: t.Subject}.RuleName())
		if inhibited[t.Fingerprint] {
			detail += " (inhibited by the outage: not notified)"
		}
		rep.add("  "+t.Product, t.To, detail)
	}
	for _, c := range sum.Channels {
		switch {
		case !c.Enabled:
			rep.add("  "+c.Name, "skipped", c.Reason)
		case c.Failing():
			rep.add("  "+c.Name, "failing", fmt.Sprintf("failed %d run(s) in a row: %s", c.Failures, c.LastError))
		}
	}
}

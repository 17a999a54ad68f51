package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Alert is `portfolio alert`: it evaluates every rule at o.Now, sends the notifications that
// are due and saves the state, under the data lock. With o.DryRun, or on demo data
// (store.Meta.Rules: read only), it sends and saves nothing; the summary's DryRun says which
// happened. A failing channel is in the summary (FailingChannels), not an error.
func Alert(ctx context.Context, o Options) (alert.Summary, error) {
	return writing(ctx, o, func(ctx context.Context, o Options) (alert.Summary, error) { return o.evaluateAlerts(ctx) })
}

// writing runs f for a command that may write data/: on demo data (store.Meta.Rules: read
// only) as a dry run, at the demo's clock when no --now was given, and under the data lock
// unless it is a dry run.
func writing[T any](ctx context.Context, o Options, f func(context.Context, Options) (T, error)) (T, error) {
	o = o.withDefaults()
	meta, err := o.Store.Meta()
	if err != nil {
		var zero T
		return zero, err
	}
	if meta.Rules().ReadOnly {
		o.DryRun = true
	}
	o.clock(meta.Rules())
	if !o.DryRun {
		unlock, err := o.lock(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		defer unlock()
	}
	return f(ctx, o)
}

// evaluateAlerts builds the channels and runs the alert step; the caller holds the data lock
// unless o.DryRun.
func (o Options) evaluateAlerts(ctx context.Context) (alert.Summary, error) {
	set := Channels(o.Config, ChannelOptions{Getenv: o.Getenv, Client: o.HTTP.Channels, Logger: o.Log,
		Retry: retry.Policy{Sleep: o.Sleep}})
	return alert.Run(ctx, alert.Options{
		Config: o.Config, Store: o.Store, Now: o.Now, Senders: set.Senders(), Disabled: set.Disabled,
		DryRun: o.DryRun, Redactor: o.Redactor, Logger: o.Log,
	})
}

// alertStep is the run's second step. A failing channel is a warning, not a failed run: its
// sends are retried next run and the other channels went out.
func (o Options) alertStep(ctx context.Context, rep *Report) {
	sum, err := o.evaluateAlerts(ctx)
	if err != nil {
		rep.fail(StepAlert, err)
		return
	}
	state := StateOK
	if len(sum.FailingChannels()) > 0 || len(sum.Damaged) > 0 {
		state = StateWarning
	}
	rep.add(StepAlert, state, AlertLine(sum))
	for _, d := range sum.Damaged {
		rep.damage(d.Product, d.Text())
	}
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
		rep.sub(t.Product, t.To, detail)
	}
	for _, c := range sum.Channels {
		switch {
		case !c.Enabled:
			rep.sub(c.Name, StateSkipped, c.Reason)
		case c.Failing():
			rep.sub(c.Name, StateFailing, fmt.Sprintf("failed %d run(s) in a row: %s", c.Failures, c.LastError))
		}
	}
}

// AlertLine is the one-line result of the alert step: what fires by severity, what is pending,
// and what was sent.
func AlertLine(sum alert.Summary) string {
	bySev := map[string]int{}
	for _, f := range sum.Firing {
		bySev[f.Severity]++
	}
	var parts []string
	for _, s := range alert.Severities {
		if bySev[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", bySev[s], s))
		}
	}
	firing := fmt.Sprintf("%d firing", len(sum.Firing))
	if len(parts) > 0 {
		firing += " (" + strings.Join(parts, ", ") + ")"
	}
	line := fmt.Sprintf("%s, %d pending", firing, sum.Pending)
	if sum.DryRun {
		return line + fmt.Sprintf("; %d notification(s) due, none sent (dry run)", sum.Count(alert.OutcomeDryRun))
	}
	line += fmt.Sprintf("; %d sent, %d failed", sum.Count(alert.OutcomeSent), sum.Count(alert.OutcomeFailed))
	if n := sum.Count(alert.OutcomeSkipped); n > 0 {
		line += fmt.Sprintf(", %d owed to disabled channels", n)
	}
	if n := len(sum.Damaged); n > 0 {
		line += fmt.Sprintf("; %d product(s) held: data damaged", n)
	}
	return line
}

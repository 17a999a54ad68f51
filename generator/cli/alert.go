package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
)

func (a *app) alertCommand() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "Evaluate the alert rules at --now and notify the configured channels",
		Long: `alert evaluates every product's alert rules over the stored history at --now, moves
each alert through pending → firing → resolved, sends the notifications that are due to
Slack, email, GitHub issues and PagerDuty, and saves the state in data/alerts.json.

A channel whose secret is not in the environment is skipped, and says so; its notifications
stay owed. A failed send is retried on the next run; other channels are not held up.
--dry-run prints what would be sent and saves nothing. See docs/alerting.md.

Exit codes: 0 ok, 1 a send failed (the state is saved, the send is retried next run) or the
data could not be read, 2 bad usage or config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st := a.store()
			meta, err := st.Meta()
			if err != nil {
				return withCode(ExitFailure, err)
			}
			if meta.Rules().ReadOnly && !dryRun {
				fmt.Fprintf(a.stdout, "alert: %s holds the demo history: evaluating without sending or saving (as --dry-run)\n", a.dataDir)
				dryRun = true
			}
			if !dryRun {
				unlock, err := st.Lock(cmd.Context(), a.log)
				if err != nil {
					return withCode(ExitFailure, err)
				}
				defer func() {
					if err := unlock(); err != nil {
						a.log.Warn("could not release the data lock", "err", err)
					}
				}()
			}
			sum, err := a.evaluateAlerts(cmd.Context(), cfg, st, dryRun)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			printAlertSummary(a.stdout, sum)
			if failing := sum.FailingChannels(); len(failing) > 0 {
				return withCode(ExitFailure, fmt.Errorf("alert: sending failed on %s (retried next run)", strings.Join(failing, ", ")))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the notifications that are due; send nothing, save nothing")
	return cmd
}

// evaluateAlerts builds the channels from the config and the environment and runs the alert
// step; `portfolio run` calls it too. The caller holds the data lock when dryRun is false.
func (a *app) evaluateAlerts(ctx context.Context, cfg *config.Config, st *store.Store, dryRun bool) (alert.Summary, error) {
	set := run.Channels(cfg, run.ChannelOptions{Getenv: a.getenv, Logger: a.log})
	return alert.Run(ctx, alert.Options{
		Config: cfg, Store: st, Now: a.now, Senders: set.Senders(), Disabled: set.Disabled,
		DryRun: dryRun, Redactor: a.redactor, Logger: a.log,
	})
}

// alertSummaryLine is the one-line result of the alert step.
func alertSummaryLine(sum alert.Summary) string {
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
	return line
}

// printAlertSummary prints the firing alerts, each notification's fate and the channels that
// cannot send.
func printAlertSummary(w io.Writer, sum alert.Summary) {
	fmt.Fprintf(w, "alert: %s\n", alertSummaryLine(sum))
	for _, f := range sum.Firing {
		ack := ""
		if f.Acknowledged {
			ack = " (acknowledged)"
		}
		fmt.Fprintf(w, "  firing    %-8s %s: %s since %s%s: %s\n", f.Severity, f.Product, f.RuleName(),
			f.FiringSince.Format("2006-01-02 15:04Z07:00"), ack, f.Summary)
	}
	for _, t := range sum.Transitions {
		from := t.From
		if from == "" {
			from = "new"
		}
		rule := alert.Alert{Rule: t.Rule, Subject: t.Subject}
		fmt.Fprintf(w, "  %-9s %-8s %s: %s (was %s)\n", t.To, t.Severity, t.Product, rule.RuleName(), from)
	}
	for _, o := range sum.Outcomes {
		n := o.Notification
		verb := map[string]string{alert.OutcomeSent: "sent", alert.OutcomeFailed: "FAILED",
			alert.OutcomeSkipped: "skipped", alert.OutcomeDryRun: "would send"}[o.Status]
		line := fmt.Sprintf("  %-10s %-13s %-8s [%s] %s: %s", verb, n.Channel, n.Kind, n.Alert.Severity, n.Alert.Product, n.Alert.RuleName())
		if o.Error != "" {
			line += " — " + o.Error
		}
		fmt.Fprintln(w, line)
	}
	var disabled []string
	for _, c := range sum.Channels {
		if !c.Enabled {
			disabled = append(disabled, fmt.Sprintf("  channel %s is off: %s", c.Name, c.Reason))
		}
	}
	slices.Sort(disabled)
	for _, d := range disabled {
		fmt.Fprintln(w, d)
	}
}

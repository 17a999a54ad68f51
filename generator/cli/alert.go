package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/run"
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
data could not be read, 2 bad usage or config (or --now more than 5 minutes ahead of the
clock), 3 a product's data is damaged (its alerts held, the others evaluated).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !dryRun {
				if err := a.checkNowForWrite("alert"); err != nil {
					return err
				}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			o := a.runOptions(cfg)
			o.DryRun = dryRun
			sum, err := run.Alert(cmd.Context(), o)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			if sum.DryRun && !dryRun { // the data is read only
				fmt.Fprintf(a.stdout, "alert: %s holds the demo history: evaluating without sending or saving (as --dry-run)\n", a.dataDir)
			}
			printAlertSummary(a.stdout, sum)
			if failing := sum.FailingChannels(); len(failing) > 0 {
				return withCode(ExitFailure, fmt.Errorf("alert: sending failed on %s (retried next run)", strings.Join(failing, ", ")))
			}
			if len(sum.Damaged) > 0 {
				var lines []string
				for _, d := range sum.Damaged {
					lines = append(lines, d.Product+": "+d.Text()+"; its alerts were held")
				}
				return withCode(ExitSourcesFailed, errors.New(strings.Join(lines, "\n")))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the notifications that are due; send nothing, save nothing")
	return cmd
}

// printAlertSummary prints the firing alerts, each notification's fate and the channels that
// cannot send.
func printAlertSummary(w io.Writer, sum alert.Summary) {
	fmt.Fprintf(w, "alert: %s\n", run.AlertLine(sum))
	for _, f := range sum.Firing {
		ack := ""
		if f.Acknowledged {
			ack = " (acknowledged)"
		}
		if f.Muted != "" {
			ack += " (muted: " + f.Muted + ")"
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

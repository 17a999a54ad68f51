package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/digest"
	"github.com/portfolio-report/portfolio/generator/run"
)

func (a *app) digestCommand() *cobra.Command {
	var dryRun bool
	var preview, period string
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Send the weekly digest that is due to the email and Slack channels",
		Long: `digest sends the digest of the latest period that is due (by default the 7 days before
Monday 08:00 in site.timezone, against the 7 before) to every email and Slack channel routed
to it that has not had it yet, and records each delivery in data/digests.json: a period goes
to a channel at most once. 'portfolio run' does the same as a step after alert.

--dry-run prints the digest as text and sends and saves nothing. --preview FILE writes the
email's HTML to FILE (and sends nothing). --period 2026-11-30 picks an earlier period (a
resend after a failure), still at most once per channel. See docs/digest.md.

Exit codes: 0 ok (also when nothing is due), 1 a send failed (retried next run) or the data
could not be read, 2 bad usage or config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if preview != "" {
				dryRun = true
			}
			if !dryRun {
				if err := a.checkNowForWrite("digest"); err != nil {
					return err
				}
			}
			var per *digest.Period
			if period != "" {
				p, err := digest.ScheduleOf(cfg).ParseID(period)
				if err != nil {
					return withCode(ExitUsage, fmt.Errorf("digest: --period: %w", err))
				}
				per = &p
			}
			o := a.runOptions(cfg)
			o.DryRun = dryRun
			sum, err := run.Digest(cmd.Context(), o, per)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			if preview != "" {
				html, err := digest.HTML(sum.Digest)
				if err != nil {
					return withCode(ExitFailure, err)
				}
				if err := os.WriteFile(preview, []byte(html), 0o644); err != nil {
					return withCode(ExitFailure, fmt.Errorf("digest: --preview: %w", err))
				}
				fmt.Fprintf(a.stdout, "digest: wrote the email of period %s (%s) to %s\n", sum.Period.ID, sum.Digest.Label, preview)
				return nil
			}
			if !dryRun && sum.Count(digest.OutcomeDryRun) > 0 { // the data is read only
				fmt.Fprintf(a.stdout, "digest: %s holds the demo history: nothing is sent or saved (as --dry-run)\n", a.dataDir)
			}
			if dryRun {
				io.WriteString(a.stdout, digest.Text(sum.Digest))
				fmt.Fprintln(a.stdout)
			}
			printDigestSummary(a.stdout, sum)
			if n := sum.Count(digest.OutcomeFailed); n > 0 {
				return withCode(ExitFailure, errors.New("digest: sending failed (retried next run)"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the digest as text; send nothing, save nothing")
	cmd.Flags().StringVar(&preview, "preview", "", "write the email's HTML to this file; send nothing")
	cmd.Flags().StringVar(&period, "period", "", "the period to send, by its date (default: the latest that is due)")
	return cmd
}

func printDigestSummary(w io.Writer, sum digest.Summary) {
	fmt.Fprintf(w, "digest: %s\n", digestLine(sum))
	for _, o := range sum.Outcomes {
		line := fmt.Sprintf("  %-8s %s", o.Status, o.Channel)
		if o.Detail != "" {
			line += " — " + o.Detail
		}
		fmt.Fprintln(w, line)
	}
}

func digestLine(sum digest.Summary) string { return digest.Line(sum) }

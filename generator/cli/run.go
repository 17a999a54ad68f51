package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/run"
)

func (a *app) runCommand() *cobra.Command {
	var (
		dryRun   bool
		skip     []string
		branch   string
		deadline func() (time.Time, error)
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The scheduled job: collect, store, alert, build and publish",
		Long: `run is what CI runs every 15 minutes: collect every source into --data, evaluate
alerts and notify, build the site into --out, and publish it to Cloudflare Pages.

A source without credentials is skipped with its reason; one that fails is recorded as
failed in its snapshot and the run goes on (exit 3). Collecting stops at --deadline
(counted from the start, default 10m): every source still running is recorded as
timed_out (exit 3), what was collected is written, and the run goes on to alert, build and
publish. When --data holds the demo history
written by 'portfolio demo', nothing is collected and no alert state is written: the run
builds the site from the committed example data and leaves data/ untouched.

--dry-run sends no notification, saves no alert state and publishes nothing.
--skip ` + strings.Join(run.Steps(), ",") + ` leaves steps out.

A product whose data file is damaged is left out of collect and alert, and its page says
"data damaged: file:line"; the rest of the portfolio is collected, alerted and built (exit
3; see portfolio repair). --now more than 5 minutes ahead of the clock is refused (exit 2).

Exit codes: 0 ok, 1 a step failed, 2 bad usage or config, 3 finished but some source failed
or some product's data is damaged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkNowForWrite("run"); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			o := a.runOptions(cfg)
			o.DryRun, o.Skip, o.Publish.Branch = dryRun, skip, branch
			if o.Deadline, err = deadline(); err != nil {
				return err
			}
			rep, err := run.Run(cmd.Context(), o)
			if err != nil {
				return withCode(ExitFailure, usage("--skip", err))
			}
			printReport(a.stdout, rep, a.outDir)
			switch rep.Outcome {
			case run.Failed:
				return withCode(ExitFailure, errSilent)
			case run.SourcesFailed:
				return withCode(ExitSourcesFailed, errSilent)
			}
			return nil
		},
	}
	deadline = a.deadlineFlag(cmd)
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "send no notification, save no alert state, publish nothing")
	f.StringSliceVar(&skip, "skip", nil, "steps to leave out: "+strings.Join(run.Steps(), ","))
	f.StringVar(&branch, "branch", "", "publish to this branch: a preview unless it is the production branch")
	return cmd
}

// printReport prints the one-screen summary at the end of a run.
func printReport(w io.Writer, rep run.Report, out string) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "portfolio run at %s", rep.Now.Format(time.RFC3339))
	if rep.Demo {
		fmt.Fprint(w, " (demo data)")
	}
	fmt.Fprintln(w)
	for _, r := range rep.Rows {
		name := r.Name
		if r.Sub {
			name = "  " + name
		}
		fmt.Fprintf(w, "  %-18s %-8s %s\n", name, r.State, r.Detail)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err == nil {
		fmt.Fprintf(w, "Preview: portfolio serve --out %s, then open http://localhost:3000\n", out)
	}
}

package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/source"
)

func (a *app) collectCommand() *cobra.Command {
	var shardFlag string
	var only []string
	var deadline func() (time.Time, error)
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Collect every source for every product and append a snapshot per product to --data",
		Long: `collect runs every source (cloudflare, posthog, probe, github) for every product at once,
within each API's rate limits, and appends one snapshot per product to the data folder.

A source that fails, times out or is rate limited is recorded as such in the snapshot
A source that fails, times out or is rate limited is recorded as such in the snapshot
and never stops the others. Each product's snapshot is appended as soon as its sources
have finished. At --deadline (counted from the start, default 10m) every source still
running is recorded as timed_out and everything collected is written.

Exit codes: 0 all configured sources succeeded, 3 some failed or timed out (their data is
stale) or a product's data is damaged (the others were collected; see portfolio repair),
1 the data folder could not be written or its lock not taken in --lock-timeout, 2 bad usage.

Collecting twice at the same --now changes nothing the second time (exit 0). Snapshots
stamped after --now (a clock that ran ahead) are moved to an .ahead file beside their log
and reported; a last line cut off by a crash is moved to a .torn file and reported.

--shard i/n collects only the products whose position in portfolio.json (counting from 0)
is i-1 modulo n, and touches only their files, so n jobs can collect in parallel.

Credentials come from the environment only; see docs/collect.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkNowForWrite("collect"); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			var shard source.Shard
			if shardFlag != "" {
				if shard, err = source.ParseShard(shardFlag); err != nil {
					return withCode(ExitUsage, fmt.Errorf("--shard: %w", err))
				}
			}
			o := a.runOptions(cfg)
			o.Shard, o.Sources = shard, only
			if o.Deadline, err = deadline(); err != nil {
				return err
			}
			sum, err := run.Collect(cmd.Context(), o)
			if err != nil {
				return withCode(ExitFailure, usage("--source", err))
			}
			if sum.Failed() {
				var lines []string
				if n := len(sum.FailedOutcomes()); n > 0 {
					lines = append(lines, fmt.Sprintf("%d of %d source calls failed; their data is stale", n, len(sum.Outcomes)))
				}
				for _, d := range sum.Damaged {
					lines = append(lines, d.Product+": "+d.Text())
				}
				return withCode(ExitSourcesFailed, errors.New(strings.Join(lines, "\n")))
			}
			return nil
		},
	}
	deadline = a.deadlineFlag(cmd)
	cmd.Flags().StringVar(&shardFlag, "shard", "", "collect only shard i of n of the products, like 2/4")
	cmd.Flags().StringSliceVar(&only, "source", nil, "collect only these sources (repeatable or comma-separated): "+
		"default all")
	return cmd
}

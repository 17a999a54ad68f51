package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/progress"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

func (a *app) collectCommand() *cobra.Command {
	var shardFlag string
	var only []string
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Collect every source for every product and append a snapshot per product to --data",
		Long: `collect runs every source (cloudflare, posthog, probe, github) for every product at once,
within each API's rate limits, and appends one snapshot per product to the data folder.

A source that fails, times out or is rate limited is recorded as such in the snapshot
and never stops the others. Exit codes: 0 all configured sources succeeded, 3 some
failed (their data is stale), 1 the data folder could not be written, 2 bad usage.

--shard i/n collects only the products whose position in portfolio.json (counting from 0)
is i-1 modulo n, and touches only their files, so n jobs can collect in parallel.

Credentials come from the environment only; see docs/collect.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			st := a.store()
			if meta, err := st.Meta(); err != nil {
				return withCode(ExitFailure, err)
			} else if meta.Rules().ReadOnly {
				return withCode(ExitFailure, fmt.Errorf("%s holds the demo history written by 'portfolio demo'; collecting into it would mix real and made-up data: use --data with an empty folder", a.dataDir))
			}
			sum, err := a.collect(cmd.Context(), cfg, st, shard, only, false)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			if sum.Failed() {
				return withCode(ExitSourcesFailed, fmt.Errorf("%d of %d source calls failed; their data is stale",
					len(sum.FailedOutcomes()), len(sum.Outcomes)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&shardFlag, "shard", "", "collect only shard i of n of the products, like 2/4")
	cmd.Flags().StringSliceVar(&only, "source", nil, "collect only these sources (repeatable or comma-separated): "+
		"default all")
	return cmd
}

// collect runs the sources (all, or those named in only) for the shard's products, with progress
// on stderr and the GitHub Actions step summary. lockHeld says the caller holds the store lock.
func (a *app) collect(ctx context.Context, cfg *config.Config, st *store.Store, shard source.Shard, only []string, lockHeld bool) (source.Summary, error) {
	now := a.now
	srcs, err := run.Sources(run.SourceDeps{
		Config: cfg, Store: st, Getenv: a.getenv, Log: a.log,
		HTTP:     &http.Client{Timeout: 60 * time.Second},
		Now:      func() time.Time { return now },
		Redactor: a.redactor,
	}, only...)
	if err != nil {
		return source.Summary{}, withCode(ExitUsage, fmt.Errorf("--source: %w", err))
	}
	n := 0
	for k := range cfg.Products {
		if shard.Selects(k) {
			n++
		}
	}
	mode := progress.DetectMode(a.stderr, a.getenv)
	if a.quiet && mode != progress.GitHub {
		mode = progress.Quiet
	}
	rep := progress.New(a.stderr, mode, n*len(srcs))
	sum, err := source.Collect(ctx, source.Options{
		Products: cfg.Products,
		Sources:  srcs,
		Store:    st,
		Now:      now,
		Shard:    shard,
		Observer: rep,
		Log:      a.log,
		Redactor: a.redactor,
		SkipLock: lockHeld,
	})
	rep.Finish(sum)
	if serr := progress.AppendStepSummary(a.getenv, sum); serr != nil {
		a.log.Warn("could not write the step summary", "err", serr)
	}
	return sum, err
}

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/shard"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// ShardsEnv is the variable that holds the shard count when --count is not given: the
// workflow passes the repository variable of the same name.
const ShardsEnv = "PORTFOLIO_SHARDS"

func (a *app) shardsCommand() *cobra.Command {
	var count int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "shards",
		Short: "Split the collect across jobs: the matrix, and pack and merge of the shards' data",
		Long: `shards prints how the products split into --count shards (default: $` + ShardsEnv + `,
else 1): product number k in portfolio.json (from 0) is collected by shard k mod n + 1. A count
above the number of products is cut to it. --json prints the matrix GitHub Actions takes with
fromJSON: {"include":[{"shard":"1/4","index":1,"count":4,"products":13},…]}.

The sharded workflow (docs/sharding.md) runs, per shard,
  portfolio collect --shard i/n --now T
  portfolio shards pack --shard i/n --now T --out shard-i.tar
and then, in one job,
  portfolio shards merge --count n --now T shard-*.tar
  portfolio run --skip collect --now T`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			n, err := a.shardCount(count)
			if err != nil {
				return err
			}
			m, err := shard.Plan(cfg.Products, n)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if asJSON {
				b, err := json.Marshal(m)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s\n", b)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SHARD\tPRODUCTS\t")
			for _, e := range m.Include {
				ids := shard.Products(cfg.Products, source.Shard{Index: e.Index, Count: e.Count})
				fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Shard, e.Products, strings.Join(ids, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&count, "count", 0, "the number of shards (default $"+ShardsEnv+", else 1)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the GitHub Actions matrix as JSON")
	cmd.AddCommand(a.shardsPackCommand(), a.shardsMergeCommand())
	return cmd
}

// shardCount is --count, else $PORTFOLIO_SHARDS, else 1.
func (a *app) shardCount(flag int) (int, error) {
	if flag != 0 {
		if flag < 1 {
			return 0, withCode(ExitUsage, fmt.Errorf("--count: want a whole number of at least 1, got %d", flag))
		}
		return flag, nil
	}
	v := strings.TrimSpace(a.getenv(ShardsEnv))
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, withCode(ExitUsage, fmt.Errorf("%s: want a whole number of at least 1, got %q", ShardsEnv, v))
	}
	return n, nil
}

func (a *app) shardsPackCommand() *cobra.Command {
	var shardFlag, out string
	cmd := &cobra.Command{
		Use:   "pack",
		Short: "Pack the data files one shard's collect changed into an archive for the merging job",
		Long: `pack writes the files under --data that the shard's collect changed (git ls-files
--modified --others --exclude-standard, and the deleted ones) into --out, a tar archive whose
first entry is a manifest: the shard, --now (required: the run's time, the collect's --now),
its products and the files. --data must be inside a git work tree (the CI checkout).

A changed file that belongs to none of the shard's products (another shard's, or a
portfolio-wide file such as alerts.json) is refused: exit 1, and no archive is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			s, err := source.ParseShard(shardFlag)
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("--shard: %w", err))
			}
			if out == "" {
				return withCode(ExitUsage, errors.New("--out: want the archive's file name"))
			}
			if a.nowFlag == "" {
				return withCode(ExitUsage, errors.New("--now: want the time the shard collected at (the collect's --now), which the merge checks every shard against"))
			}
			changed, deleted, err := shard.Changed(cmd.Context(), a.dataDir)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			m := shard.Manifest{Shard: s.String(), Now: a.now, Products: shard.Products(cfg.Products, s), Files: changed, Deleted: deleted}
			if s.Count == 1 {
				m.Shard = "1/1"
			}
			var buf bytes.Buffer
			if err := shard.Pack(&buf, a.dataDir, m); err != nil {
				return withCode(ExitFailure, err)
			}
			if err := store.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return withCode(ExitFailure, err)
			}
			fmt.Fprintf(a.stdout, "shard %s: packed %d changed and %d deleted files of %d products into %s\n",
				m.Shard, len(changed), len(deleted), len(m.Products), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&shardFlag, "shard", "", "the shard that collected, like 2/4 (required)")
	cmd.Flags().StringVar(&out, "out", "", "the archive to write (required)")
	return cmd
}

func (a *app) shardsMergeCommand() *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "merge [ARCHIVE|DIR]...",
		Short: "Merge the shards' archives into --data; a shard that delivered nothing leaves its products timed_out",
		Long: `merge reads every archive (a DIR stands for the *.tar files in it, at any depth) that
portfolio shards pack wrote, checks that they belong to one run (the same shard count, the
same --now, the shards the config gives, each shard once) and that no two hold the same file,
and only then writes their files into --data. A conflict or a mismatch is exit 1 and writes
nothing.

Then every product without a snapshot at the run's time (its shard's archive is missing,
or the shard stopped before writing it) gets one in which its sources are timed_out, as a
collect's --deadline records them: the site shows its data as stale, and alerts on it, and
the next run collects it again.

--count is the number of shards the run was split into (default $` + ShardsEnv + `; else the
archives'). --now is the run's time (default the archives'; the workflow passes the one
every shard collected at).

Exit codes: 0 every shard merged, 3 some products are stale (timed_out) or their data is
damaged, 1 a conflict, a mismatch or a write failed, 2 bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkNowForWrite("shards merge"); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("count") {
				if v := strings.TrimSpace(a.getenv(ShardsEnv)); v != "" {
					if count, err = a.shardCount(0); err != nil {
						return err
					}
				}
			} else if count < 1 {
				return withCode(ExitUsage, fmt.Errorf("--count: want a whole number of at least 1, got %d", count))
			}
			archives, err := archiveFiles(args)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			var now time.Time
			if a.nowFlag != "" {
				now = a.now
			}
			st := a.store()
			lctx, cancel := a.lockContext(cmd.Context())
			defer cancel()
			unlock, err := st.Lock(lctx, a.log)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("shards merge: lock data: %w", err))
			}
			defer unlock()
			res, err := shard.Merge(shard.MergeOptions{Store: st, Products: cfg.Products, Count: count, Now: now,
				Sources: run.SourceNames(), Archives: archives, Log: a.log})
			if err != nil {
				return withCode(ExitFailure, err)
			}
			fmt.Fprintf(a.stdout, "merged %d of %d shards at %s: %d files written, %d deleted\n",
				len(res.Merged), res.Count, res.Now.Format(time.RFC3339), res.Files, res.Deleted)
			if !res.Failed() {
				return nil
			}
			var lines []string
			if len(res.Missing) > 0 {
				lines = append(lines, "no data from shard "+strings.Join(res.Missing, ", "))
			}
			for _, s := range res.Stale {
				lines = append(lines, fmt.Sprintf("%s (shard %s): marked timed_out", s.Product, s.Shard))
			}
			for _, d := range res.Damaged {
				lines = append(lines, d.Product+": "+d.Text())
			}
			return withCode(ExitSourcesFailed, errors.New(strings.Join(lines, "\n")))
		},
	}
	cmd.Flags().IntVar(&count, "count", 0, "the number of shards (default $"+ShardsEnv+", else the archives')")
	return cmd
}

// archiveFiles expands the arguments: a file stands for itself, a folder for the *.tar files
// under it (download-artifact puts each artifact in a folder of its own).
func archiveFiles(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tar") {
				out = append(out, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

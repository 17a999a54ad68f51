package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/store"
)

func (a *app) demoCommand() *cobra.Command {
	var products, days int
	var seed int64
	var writeConfig string
	var force bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Write a deterministic synthetic history into --data (demo data, shown with a banner)",
		Long: `demo replaces the history in --data with a synthetic one: a snapshot every 15 minutes
for --days days ending at --now (default: the current time, truncated to 15 minutes), with
daily traffic cycles, blips and outages, deployments with their commits, incidents and
daily analytics. The same config, --seed and --now give byte-identical files.

With --products 0 (the default) it uses the products of --config. With --products N it
synthesises a portfolio of N products instead (for benchmarks); --write-config PATH also
writes that portfolio's config, so that build and dora can read it.

The data is marked as demo data (meta.json), and the site shows a banner. demo refuses to
write into a data folder that holds other data unless --force is given.`,
		Example: `  portfolio demo --now 2026-11-29T00:00:00Z
  portfolio demo --products 100 --days 365 --data /tmp/big/data --write-config /tmp/big/portfolio.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkNowForWrite("demo"); err != nil {
				return err
			}
			switch {
			case products < 0:
				return withCode(ExitUsage, fmt.Errorf("--products: want 0 (the config's products) or more, got %d", products))
			case days < 1:
				return withCode(ExitUsage, fmt.Errorf("--days: want at least 1, got %d", days))
			case writeConfig != "" && products == 0:
				return withCode(ExitUsage, errors.New("--write-config: only with --products N, which synthesises the config it writes"))
			}
			var cfg *config.Config
			if products > 0 {
				cfg = demo.Config(products)
			} else {
				var err error
				if cfg, err = a.loadConfig(); err != nil {
					return err
				}
			}
			now := a.now
			if a.nowFlag == "" {
				now = now.Truncate(demo.Interval)
			}

			st := a.store()
			ctx, cancel := a.lockContext(cmd.Context())
			defer cancel()
			unlock, err := st.Lock(ctx, a.log)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("demo: %w", err))
			}
			defer unlock()

			if err := a.clearForDemo(st, cfg, force); err != nil {
				return err
			}
			if writeConfig != "" {
				data, err := json.MarshalIndent(cfg, "", "  ")
				if err != nil {
					return withCode(ExitFailure, fmt.Errorf("--write-config: %w", err))
				}
				if err := store.WriteFileAtomic(writeConfig, append(data, '\n')); err != nil {
					return withCode(ExitFailure, fmt.Errorf("--write-config: %w", err))
				}
			}
			opts := demo.Options{Seed: seed, Days: days, Now: now}
			if err := demo.Generate(cfg, st, opts); err != nil {
				return withCode(ExitFailure, err)
			}
			fmt.Fprintf(a.stdout, "%s: %d days of demo data for %d %s, ending %s (seed %d)\n", st.Dir(), days,
				len(cfg.Products), validatePlural(len(cfg.Products), "product", "products"),
				now.Truncate(demo.Interval).Format(time.RFC3339), seed)
			if writeConfig != "" {
				fmt.Fprintf(a.stdout, "%s: the config of the %d synthetic products\n", writeConfig, len(cfg.Products))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&products, "products", 0, "synthesise N products instead of using --config's (0: the config's)")
	f.IntVar(&days, "days", 90, "days of history, ending at --now")
	f.Int64Var(&seed, "seed", 1, "the random seed: the same seed and --now give the same files")
	f.StringVar(&writeConfig, "write-config", "", "with --products N: write the synthesised config to this path")
	f.BoolVar(&force, "force", false, "replace data that was not written by demo")
	return cmd
}

// clearForDemo makes room for a demo history. Demo data is replaced whole, including products
// no longer in the config; other data (collected history, state files) is replaced only with
// --force, and then only the products demo writes.
func (a *app) clearForDemo(st *store.Store, cfg *config.Config, force bool) error {
	meta, err := st.Meta()
	if err != nil && !force {
		return withCode(ExitFailure, fmt.Errorf("demo: %w (use --force to replace it)", err))
	}
	if !meta.Demo() {
		if other := otherData(st.Dir()); len(other) > 0 && !force {
			return withCode(ExitFailure, fmt.Errorf("demo: %s holds data not written by demo (%s): use --force to replace it, or --data to write elsewhere",
				st.Dir(), strings.Join(other, ", ")))
		}
		return nil
	}
	ids, err := st.Products()
	if err != nil {
		return withCode(ExitFailure, fmt.Errorf("demo: %w", err))
	}
	for _, id := range ids {
		if !slices.ContainsFunc(cfg.Products, func(p config.Product) bool { return p.ID == id }) {
			if err := st.RemoveProduct(id); err != nil {
				return withCode(ExitFailure, fmt.Errorf("demo: %w", err))
			}
		}
	}
	return nil
}

// otherData lists what the data folder holds besides its documentation and the lock.
func otherData(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		switch n := e.Name(); {
		case n == "README.md" || strings.HasPrefix(n, "."):
		case e.IsDir():
			names = append(names, n+"/")
		default:
			names = append(names, n)
		}
	}
	return names
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

func (a *app) doraCommand() *cobra.Command {
	var asJSON bool
	var productID string
	cmd := &cobra.Command{
		Use:   "dora",
		Short: "Print the DORA metrics from data/ (no network)",
		Long: `Print the four DORA metrics of every product and of the portfolio over the current
window [now − window_days, now) and the previous one, with levels and trends, computed from
data/ alone as docs/dora.md defines them. --json prints the contract's JSON; --product narrows
the products to one (the portfolio figures stay those of the whole portfolio).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			products := cfg.Products
			if productID != "" {
				if _, ok := cfg.ProductByID(productID); !ok {
					var ids []string
					for _, p := range cfg.Products {
						ids = append(ids, p.ID)
					}
					return withCode(ExitUsage, fmt.Errorf("--product: no product %q in %s (have %s)", productID, a.configPath, strings.Join(ids, ", ")))
				}
			}
			in, damaged, err := doraInputs(a.store(), products)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			rep := dora.Compute(cfg.DORA, in, a.now)
			if productID != "" {
				for _, p := range rep.Products {
					if p.ID == productID {
						rep.Products = []dora.ProductReport{p}
						break
					}
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
				if len(damaged) > 0 {
					return withCode(ExitSourcesFailed, fmt.Errorf("dora: left out (their figures are missing):\n%s", strings.Join(damaged, "\n")))
				}
				return nil
			}
			if err := printDORA(a.stdout, cfg, rep); err != nil {
				return err
			}
			if len(damaged) > 0 {
				return withCode(ExitSourcesFailed, fmt.Errorf("dora: left out (their figures are missing):\n%s", strings.Join(damaged, "\n")))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the contract's JSON")
	cmd.Flags().StringVar(&productID, "product", "", "only this product (by id)")
	return cmd
}

// doraInputs reads every product's deployments and incidents from the store. A product whose
// files are damaged is left out and named in damaged, "product: data
// damaged: file:line: …"; the others are computed.
func doraInputs(st *store.Store, products []config.Product) (in []dora.Input, damaged []string, err error) {
	in = make([]dora.Input, 0, len(products))
	for _, p := range products {
		deps, err := st.Deployments(p.ID)
		if err == nil {
			var incs []record.Incident
			if incs, err = st.Incidents(p.ID); err == nil {
				in = append(in, dora.Input{Product: p, Deployments: deps, Incidents: incs})
				continue
			}
		}
		if _, ok := store.Damage(err); !ok {
			return nil, nil, fmt.Errorf("dora: %w", err)
		}
		damaged = append(damaged, p.ID+": "+store.DamageText(err))
	}
	return in, damaged, nil
}

// printDORA writes the report as a table: one row per product and the portfolio, each cell the
// current value, its level and the trend against the previous window.
func printDORA(w io.Writer, cfg *config.Config, rep dora.Report) error {
	fmt.Fprintf(w, "DORA metrics, %d days to %s (trend against the %d days before)\n\n",
		rep.WindowDays, rep.Now.Format("2006-01-02 15:04 UTC"), rep.WindowDays)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCT\tDEPLOYMENTS\tLEAD TIME (MEDIAN)\tCHANGE FAILURE RATE\tTIME TO RESTORE (MEDIAN)\tOPEN INCIDENTS")
	row := func(name string, c dora.Comparison) {
		f := c.Current
		df := fmt.Sprintf("%d ok, %d failed, %s/day", f.DeploymentFrequency.Successful, f.DeploymentFrequency.Failed,
			trimFloat(f.DeploymentFrequency.PerDay))
		lt := "–"
		if v := f.LeadTime.MedianSeconds; v != nil {
			lt = fmt.Sprintf("%s (%d changes)", dora.Duration(*v), f.LeadTime.Changes)
		}
		cfr := "–"
		if v := f.ChangeFailureRate.Rate; v != nil {
			cfr = fmt.Sprintf("%s%% (%d of %d)", trimFloat(*v*100), f.ChangeFailureRate.Failed+f.ChangeFailureRate.IncidentDeployments, f.ChangeFailureRate.Total)
		}
		ttr := "–"
		if v := f.TimeToRestore.MedianSeconds; v != nil {
			ttr = fmt.Sprintf("%s (%d closed)", dora.Duration(*v), f.TimeToRestore.Incidents)
		}
		open := fmt.Sprint(f.TimeToRestore.OpenIncidents)
		if v := f.TimeToRestore.OldestOpenSeconds; v != nil {
			open += ", oldest " + dora.Duration(*v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name,
			cell(df, f.DeploymentFrequency.Level, c.Trend.DeploymentFrequency),
			cell(lt, f.LeadTime.Level, c.Trend.LeadTime),
			cell(cfr, f.ChangeFailureRate.Level, c.Trend.ChangeFailureRate),
			cell(ttr, f.TimeToRestore.Level, c.Trend.TimeToRestore), open)
	}
	for _, p := range rep.Products {
		name := p.ID
		if cp, ok := cfg.ProductByID(p.ID); ok && cp.Name != "" && cp.Name != p.ID {
			name = cp.Name
		}
		row(name, p.Comparison)
	}
	row("Portfolio", rep.Portfolio)
	if err := tw.Flush(); err != nil {
		return err
	}

	// The newer reports' two metrics, in a table of their own so the four keys' stays as it was.
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCT\tFAILED DEPLOYMENT RECOVERY (MEDIAN)\tUNRECOVERED\tREWORK RATE")
	row2 := func(name string, c dora.Comparison) {
		f := c.Current
		rt := "–"
		if v := f.FailedDeploymentRecoveryTime.MedianSeconds; v != nil {
			rt = fmt.Sprintf("%s (%d of %d recovered)", dora.Duration(*v), f.FailedDeploymentRecoveryTime.Recovered, f.FailedDeploymentRecoveryTime.Failures)
		}
		rw := "–"
		if v := f.ReworkRate.Rate; v != nil {
			rw = fmt.Sprintf("%s%% (%d of %d)", trimFloat(*v*100), f.ReworkRate.Rework, f.ReworkRate.Successful)
		}
		arrow := map[string]string{dora.Improving: "↑", dora.Declining: "↓", dora.Flat: "="}[c.Trend.ReworkRate]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", name,
			cell(rt, f.FailedDeploymentRecoveryTime.Level, c.Trend.FailedDeploymentRecoveryTime),
			f.FailedDeploymentRecoveryTime.Unrecovered, rw+" "+arrow)
	}
	for _, p := range rep.Products {
		name := p.ID
		if cp, ok := cfg.ProductByID(p.ID); ok && cp.Name != "" && cp.Name != p.ID {
			name = cp.Name
		}
		row2(name, p.Comparison)
	}
	row2("Portfolio", rep.Portfolio)
	return tw.Flush()
}

// cell is "value · level · trend" with the trend as an arrow: ↑ improving, ↓ declining, = flat.
func cell(v string, level *string, trend string) string {
	l := "no data"
	if level != nil {
		l = *level
	}
	arrow := map[string]string{dora.Improving: "↑", dora.Declining: "↓", dora.Flat: "="}[trend]
	return fmt.Sprintf("%s · %s %s", v, l, arrow)
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

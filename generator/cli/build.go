package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	portfolio "github.com/portfolio-report/portfolio"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/site"
)

func (a *app) buildCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "build",
		Short: "Render the static site from --data into --out",
		Long: `build renders the site (overview, DORA, a page per product, alerts, JSON API, badges,
feed, sitemap, 404 page and _headers) from the config and --data, as of --now, into --out.

The site is written into a new folder beside --out and swapped in when complete: a failed
build leaves the previous site untouched, and files the new site lacks are gone. The same
data and --now give a byte-identical site.`,
		Example: `  portfolio build
  portfolio build --now 2026-06-30T00:00:00Z --out /tmp/site`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			start := time.Now()
			res, err := site.Build(cmd.Context(), site.Options{
				Config: cfg, Store: a.store(), Out: a.outDir, Now: a.now, FS: portfolio.Files, Log: a.log, Redactor: a.redactor,
			})
			if err != nil {
				return withCode(ExitFailure, err)
			}
			if !a.quiet {
				fmt.Fprintf(a.stdout, "%s: %d pages, %d files, %s in %s\n", a.outDir, res.Pages, res.Files,
					run.ByteSize(res.Bytes), time.Since(start).Round(time.Millisecond))
			}
			if len(res.Damaged) > 0 {
				var lines []string
				for _, d := range res.Damaged {
					lines = append(lines, d.Product+": "+d.Text)
				}
				return withCode(ExitSourcesFailed, fmt.Errorf("build: built, but these products' pages miss data:\n%s", strings.Join(lines, "\n")))
			}
			return nil
		},
	}
}

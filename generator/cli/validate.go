package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	portfolio "github.com/portfolio-report/portfolio"
	"github.com/portfolio-report/portfolio/generator/config"
)

// validateCommand checks --config and prints every problem, one per line, as
// file:line:col: path: what was expected. Problems exit with code 2.
func (a *app) validateCommand() *cobra.Command {
	var printSchema bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check portfolio.json and report every problem at once",
		Long: "Check --config against portfolio.schema.json and the rules a schema cannot say\n" +
			"(unique ids, time zone, URLs, durations, email addresses, secrets pasted where an\n" +
			"environment variable name belongs). Prints every problem as file:line:col: path: message\n" +
			"and exits 2 when there is any; prints \"<file>: ok (N products)\" otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if printSchema {
				_, err := a.stdout.Write(portfolio.Schema)
				return err
			}
			cfg, err := config.Load(a.configPath)
			var verr *config.ValidationError
			if errors.As(err, &verr) {
				for _, line := range verr.Lines() {
					fmt.Fprintln(a.stderr, line)
				}
				fmt.Fprintf(a.stderr, "%s: %d %s\n", a.configPath, len(verr.Problems), validatePlural(len(verr.Problems), "problem", "problems"))
				return withCode(ExitUsage, errSilent)
			}
			if err != nil {
				return withCode(ExitUsage, err)
			}
			fmt.Fprintf(a.stdout, "%s: ok (%d %s)\n", a.configPath, len(cfg.Products), validatePlural(len(cfg.Products), "product", "products"))
			return nil
		},
	}
	cmd.Flags().BoolVar(&printSchema, "print-schema", false, "print portfolio.schema.json (for editors) and exit")
	return cmd
}

func validatePlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

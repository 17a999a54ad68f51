package cli

import "github.com/spf13/cobra"

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("demo")}
}

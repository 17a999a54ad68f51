package cli

import "github.com/spf13/cobra"

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{Use: "run", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("run")}
}

package cli

import "github.com/spf13/cobra"

func (a *app) buildCommand() *cobra.Command {
	return &cobra.Command{Use: "build", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("build")}
}

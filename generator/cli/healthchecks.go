package cli

import "github.com/spf13/cobra"

func (a *app) healthchecksCommand() *cobra.Command {
	return &cobra.Command{Use: "healthchecks", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("healthchecks")}
}

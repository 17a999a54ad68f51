package cli

import "github.com/spf13/cobra"

func (a *app) validateCommand() *cobra.Command {
	return &cobra.Command{Use: "validate", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("validate")}
}

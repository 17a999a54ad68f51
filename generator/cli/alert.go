package cli

import "github.com/spf13/cobra"

func (a *app) alertCommand() *cobra.Command {
	return &cobra.Command{Use: "alert", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("alert")}
}

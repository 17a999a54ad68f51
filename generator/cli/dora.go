package cli

import "github.com/spf13/cobra"

func (a *app) doraCommand() *cobra.Command {
	return &cobra.Command{Use: "dora", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("dora")}
}

package cli

import "github.com/spf13/cobra"

func (a *app) collectCommand() *cobra.Command {
	return &cobra.Command{Use: "collect", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("collect")}
}

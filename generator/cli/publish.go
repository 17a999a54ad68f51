package cli

import "github.com/spf13/cobra"

func (a *app) publishCommand() *cobra.Command {
	return &cobra.Command{Use: "publish", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("publish")}
}

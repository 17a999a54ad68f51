package cli

import "github.com/spf13/cobra"

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "not implemented yet", Args: cobra.NoArgs, RunE: notYet("serve")}
}

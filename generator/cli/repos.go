package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/repos"
)

func (a *app) reposCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repos",
		Short: "Keep the GitHub repositories' labels and branch protection in step with the config",
		Long: `Keep the labels and branch protection of every product repository and of the GitHub
issues alert repository in step with portfolio.json, as Terraform would.

Labels: each product repository gets its incident label (incidents.label), the alert repository
incident, critical, warning, info, acknowledged and the channel's labels, and every repository
the labels of repositories.labels (products[].repository_settings.labels merged over them).
Names match case-insensitively; labels the config does not name are never touched, and no
label is ever deleted.

Branch protection (only when repositories.branch_protection or a product's
repository_settings.branch_protection is set): each product's deploy branch (deploy.branch,
else the default branch) gets the configured protection; settings the config does not name are
kept as GitHub has them.

Credentials: GITHUB_TOKEN (GITHUB_API_URL for GitHub Enterprise). Labels need the Issues
permission, branch protection the Administration permission (read to plan, write to apply).
A repository the token may not touch is reported (HTTP 403) and the others go on; the command
then exits 1. See docs/repos.md.`,
		Args: cobra.NoArgs,
	}
	var asJSON bool
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show the changes apply would make; exit 4 when there are any",
		Long: `Show the changes apply would make, terraform style: "+" create, "~" update with each
changed field as old → new, "!" a repository part that could not be read. Exit codes: 0 GitHub
matches the config, 4 changes are pending, 1 some repository could not be read (a 403 names
the permission the token lacks), 2 the config is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := a.reposPlan(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				err = p.WriteJSON(a.stdout)
			} else {
				err = p.WriteText(a.stdout)
			}
			if err != nil {
				return withCode(ExitFailure, err)
			}
			switch {
			case len(p.Problems) > 0:
				return withCode(ExitFailure, fmt.Errorf("repos plan: %d repository part(s) could not be read (see above)", len(p.Problems)))
			case !p.InSync():
				return withCode(ExitChanges, errSilent)
			}
			return nil
		},
	}
	plan.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Make the changes plan shows, stopping at the first failure",
		Long: `Make the changes plan shows, one call at a time, printing each result. A 403 (the token
lacks a permission on that repository) skips the rest of that repository's labels or
protection and apply goes on; any other failure stops apply, which lists what was and was not
applied. Running it again carries on; a second apply after a successful one changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, client, err := a.reposPlan(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.WriteText(a.stdout); err != nil {
				return withCode(ExitFailure, err)
			}
			if len(p.Changes) > 0 {
				fmt.Fprintln(a.stdout, "\nApplying:")
				rep, err := repos.Apply(cmd.Context(), client, p, func(st repos.Step) { repos.WriteStep(a.stdout, st) })
				rep.WriteSummary(a.stdout)
				if err != nil {
					return withCode(ExitFailure, fmt.Errorf("repos apply: %w", err))
				}
			}
			if n := len(p.Problems); n > 0 {
				return withCode(ExitFailure, fmt.Errorf("repos apply: %d repository part(s) could not be read, so were not applied (see above)", n))
			}
			return nil
		},
	}
	cmd.AddCommand(plan, apply)
	return cmd
}

// reposPlan reads the config and GitHub and returns the plan and the client.
func (a *app) reposPlan(ctx context.Context) (*repos.Plan, *repos.Client, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	desired, err := repos.DesiredState(cfg)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	client, err := repos.New(repos.OptionsFromEnv(a.getenv), &http.Client{Timeout: 60 * time.Second}, a.log)
	if err != nil {
		return nil, nil, withCode(ExitFailure, fmt.Errorf("repos: %w", err))
	}
	return repos.Compute(desired, client.Read(ctx, desired)), client, nil
}

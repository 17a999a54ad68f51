package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/healthchecks"
)

func (a *app) healthchecksCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "healthchecks",
		Short: "Keep Cloudflare health checks and their notification policies in step with the config",
		Long: `Keep each product's Cloudflare Health Check and its notification policy in step with
portfolio.json, as Terraform would.

Every product with cloudflare.zone_id, url and health_endpoint (and healthcheck.disabled unset)
gets one health check named portfolio-<id> and one notification policy on its status changes,
sending to notification_channels.email recipients and, when the Slack channel's webhook env var
is set, to a Cloudflare webhook destination named portfolio-slack. Only objects whose
description says "managed by portfolio" (and that destination) are ever changed or deleted.

Credentials: CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (CLOUDFLARE_API_BASE_URL to point
elsewhere). Without them plan and apply fail with exit code 1.`,
		Args: cobra.NoArgs,
	}
	var asJSON bool
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show the changes apply would make; exit 4 when there are any",
		Long: `Show the changes apply would make, terraform style: "+" create, "~" update with each
changed field as old → new, "-" delete. Exit codes: 0 Cloudflare matches the config, 4 changes
(or conflicts) are pending, 1 Cloudflare could not be read, 2 the config is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := a.healthchecksPlan(cmd.Context())
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
			if !p.InSync() {
				return withCode(ExitChanges, errSilent)
			}
			return nil
		},
	}
	plan.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Make the changes plan shows, stopping at the first failure",
		Long: `Make the changes plan shows, one call at a time, printing each result. At the first
failure apply stops and lists what was applied and what was not; running it again carries on
from there. A second apply right after a successful one changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, client, err := a.healthchecksPlan(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.WriteText(a.stdout); err != nil {
				return withCode(ExitFailure, err)
			}
			if len(p.Changes) > 0 {
				fmt.Fprintln(a.stdout, "\nApplying:")
				rep, err := healthchecks.Apply(cmd.Context(), client, p, func(st healthchecks.Step) {
					healthchecks.WriteStep(a.stdout, st)
				})
				rep.WriteSummary(a.stdout)
				if err != nil {
					return withCode(ExitFailure, fmt.Errorf("healthchecks apply: %w", err))
				}
			}
			if n := len(p.Conflicts); n > 0 {
				return withCode(ExitFailure, fmt.Errorf("healthchecks apply: %d conflict(s) left for a human (see above)", n))
			}
			return nil
		},
	}
	cmd.AddCommand(plan, apply)
	return cmd
}

// healthchecksPlan reads the config and Cloudflare and returns the plan and the client.
func (a *app) healthchecksPlan(ctx context.Context) (*healthchecks.Plan, *healthchecks.Client, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	slackURL := ""
	if s := cfg.NotificationChannels.Slack; s != nil {
		env := s.WebhookURLEnv
		if env == "" {
			env = config.EnvSlackWebhookURL
		}
		slackURL = a.getenv(env)
	}
	desired, err := healthchecks.DesiredState(cfg, slackURL)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	opts := healthchecks.OptionsFromEnv(a.getenv)
	opts.Redactor = a.redactor // knows the Slack URL: loadConfig added the config's *_env values
	client, err := healthchecks.New(opts, &http.Client{Timeout: 60 * time.Second}, a.log)
	if err != nil {
		return nil, nil, withCode(ExitFailure, fmt.Errorf("healthchecks: %w", err))
	}
	remote, err := client.Read(ctx, desired.Zones)
	if err != nil {
		return nil, nil, withCode(ExitFailure, fmt.Errorf("healthchecks: read Cloudflare: %w", err))
	}
	return healthchecks.Compute(desired, remote), client, nil
}

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/initconfig"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
)

func (a *app) initCommand() *cobra.Command {
	var org, repoList string
	var write, force, interactive, keepDemo bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Propose a portfolio.json from an organisation's repositories, zones and analytics",
		Long: `init reads the repositories of --org (or the ones --repos names) with GITHUB_TOKEN and
proposes a portfolio.json: one product per non-archived repository, with

  deploy      a workflow whose file or name says deploy or release, with runs on the default
              branch (the one with the most successful runs); else deployments to the
              environment most of them went to
  incidents   the repository's incident label, when it has one
  url         the repository's homepage
  cloudflare  with CLOUDFLARE_API_TOKEN: the zone that holds the url's host
  posthog     with POSTHOG_HOST, POSTHOG_PERSONAL_API_KEY and POSTHOG_PROJECT_ID: the url's
              host, when PostHog saw events from it in the last 7 days

It prints the proposal (on stdout) and the reason for every guess (on stderr), checked against
the schema. Nothing is written without --write, which writes --config (refusing to replace an
existing file without --force) and removes the demo history from --data so the first real
run starts clean (--keep-demo-data keeps it). --interactive asks about each product.`,
		Example: `  portfolio init --org acme
  portfolio init --org acme --write --force
  portfolio init --repos acme/shop,acme/api --interactive`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var named []string
			for _, r := range strings.Split(repoList, ",") {
				if r = strings.TrimSpace(r); r != "" {
					named = append(named, r)
				}
			}
			switch {
			case org == "" && len(named) == 0:
				return withCode(ExitUsage, errors.New("init: want --org ORG or --repos owner/name,…"))
			case org != "" && len(named) > 0:
				return withCode(ExitUsage, errors.New("init: --org and --repos exclude each other"))
			}
			o, err := a.initOptions(org, named)
			if err != nil {
				return err
			}
			p, err := initconfig.Propose(cmd.Context(), o)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			var prompt *initconfig.Prompter
			if interactive {
				prompt = initconfig.NewPrompter(cmd.InOrStdin(), a.stderr)
				if err := initconfig.Ask(prompt, p); err != nil {
					return withCode(ExitFailure, err)
				}
			}
			data, err := p.JSON(a.configPath)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			var reasons bytes.Buffer
			p.WriteReasons(&reasons)
			fmt.Fprint(a.stderr, a.redactor.String(reasons.String()))
			fmt.Fprint(a.stdout, a.redactor.String(string(data)))
			if !write {
				fmt.Fprintf(a.stderr, "\nNothing written: check the proposal, then run again with --write to write %s.\n", a.configPath)
				return nil
			}
			return a.writeInit(cmd, data, len(p.Document.Products), force, prompt, keepDemo)
		},
	}
	f := cmd.Flags()
	f.StringVar(&org, "org", "", "the organisation (or user) whose repositories become products")
	f.StringVar(&repoList, "repos", "", "the repositories to make products of, comma-separated owner/name")
	f.BoolVar(&write, "write", false, "write the proposal to --config and remove the demo data from --data")
	f.BoolVar(&force, "force", false, "with --write: replace an existing --config")
	f.BoolVar(&interactive, "interactive", false, "ask about each product at the terminal")
	f.BoolVar(&keepDemo, "keep-demo-data", false, "with --write: leave the demo history in --data")
	return cmd
}

// initOptions builds the clients of the sources whose credentials are set.
func (a *app) initOptions(org string, named []string) (initconfig.Options, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	ghOpt := repos.OptionsFromEnv(a.getenv)
	if ghOpt.Token == "" {
		return initconfig.Options{}, withCode(ExitUsage, fmt.Errorf("init reads the repositories with %s: set it to a token that may read them (docs/getting-started.md)", config.EnvGitHubToken))
	}
	gh, err := repos.New(ghOpt, client, a.log)
	if err != nil {
		return initconfig.Options{}, withCode(ExitUsage, err)
	}
	o := initconfig.Options{Org: org, Repos: named, GitHub: gh, Now: a.now, Log: a.log}
	if tok := a.getenv(config.EnvCloudflareToken); tok != "" {
		p := retry.CloudflareHealthchecks()
		o.Cloudflare = cloudflare.New(cloudflare.Options{Token: tok, BaseURL: a.getenv(config.EnvCloudflareBaseURL), Redactor: a.redactor,
			REST: cloudflare.Limits{Retry: &p}}, client)
		o.CloudflareAccount = a.getenv(config.EnvCloudflareAccount)
	} else {
		o.CloudflareSkip = config.EnvCloudflareToken + " not set"
	}
	ph := posthog.New(posthog.OptionsFromEnv(a.getenv), client, a.log)
	if m := ph.Missing(); len(m) > 0 {
		o.PostHogSkip = strings.Join(m, ", ") + " not set"
	} else {
		o.PostHog = ph
	}
	if a.demoClock { // the demo's clock is for showing demo data, not for reading live APIs
		o.Now = time.Now().UTC()
	}
	return o, nil
}

// writeInit writes the config and clears the demo data. With a prompt, an existing config is
// replaced only when the person says so.
func (a *app) writeInit(cmd *cobra.Command, data []byte, products int, force bool, prompt *initconfig.Prompter, keepDemo bool) error {
	if _, err := os.Stat(a.configPath); err == nil && !force {
		if prompt == nil {
			return withCode(ExitFailure, fmt.Errorf("init: %s exists: add --force to replace it (git keeps the old one)", a.configPath))
		}
		answer, err := prompt.Ask(a.configPath+" exists: replace it? y/n", "n")
		if err != nil {
			return withCode(ExitFailure, err)
		}
		if !strings.HasPrefix(strings.ToLower(answer), "y") {
			return withCode(ExitFailure, fmt.Errorf("init: %s kept; nothing written", a.configPath))
		}
	}
	if err := store.WriteFileAtomic(a.configPath, data); err != nil {
		return withCode(ExitFailure, fmt.Errorf("init: %w", err))
	}
	fmt.Fprintf(a.stderr, "\nWrote %s (%d %s).\n", a.configPath, products, validatePlural(products, "product", "products"))
	if !keepDemo {
		lctx, cancel := a.lockContext(cmd.Context())
		defer cancel()
		removed, err := initconfig.ClearDemoData(lctx, a.dataDir, a.log)
		if err != nil {
			return withCode(ExitFailure, err)
		}
		if len(removed) > 0 {
			fmt.Fprintf(a.stderr, "Removed the demo data from %s: %s. The first real run starts from nothing.\n", a.dataDir, strings.Join(removed, ", "))
		}
	}
	fmt.Fprintln(a.stderr, "Next: set the secrets, then run portfolio doctor (docs/getting-started.md).")
	return nil
}

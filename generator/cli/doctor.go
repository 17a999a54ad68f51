package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/doctor"
)

func (a *app) doctorCommand() *cobra.Command {
	var sendTest bool
	var summary string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check every credential against what the config needs of it",
		Long: `doctor checks, for --config and the environment, each credential against what the config
needs, and prints one line per check with what to do when it fails:

  github      the token's kind (classic, fine-grained, App, Actions' GITHUB_TOKEN) and rate
              limit; per repository: access, Actions or deployments, contents and issues
              read; issues write in the github_issues repository
  cloudflare  the token (/user/tokens/verify), each zone's analytics and health checks,
              Workers analytics, notifications, and deploying to the Pages project
  posthog     the personal API key and project, and whether each posthog.host had events
              in the last 7 days
  email       the SMTP server is reachable and accepts the login and the sender (no mail)
  slack, pagerduty  the webhook URL and routing key are well formed (nothing sent)
  data        no demo data is left in --data

With --send-test each channel also gets a test message (PagerDuty: an info incident, resolved
at once). --summary FILE appends the report as Markdown (for $GITHUB_STEP_SUMMARY).
Exit codes: 0 all good, 1 something will fail, 3 something will be degraded (a part skipped,
data that will be missing), 2 the config is invalid. See docs/getting-started.md.`,
		Example: `  portfolio doctor
  portfolio doctor --summary "$GITHUB_STEP_SUMMARY"
  portfolio doctor --send-test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			now := a.now
			if a.demoClock { // the demo's clock is for showing demo data, not for checking live APIs
				now = time.Now().UTC()
			}
			r := doctor.Run(cmd.Context(), doctor.Options{Config: cfg, Getenv: a.getenv, DataDir: a.dataDir,
				HTTPClient: &http.Client{Timeout: 30 * time.Second}, Now: now, SendTest: sendTest, Redactor: a.redactor, Log: a.log})
			fmt.Fprintf(a.stdout, "config %s: %d %s\n\n", a.configPath, len(cfg.Products), validatePlural(len(cfg.Products), "product", "products"))
			var text bytes.Buffer
			r.WriteText(&text)
			fmt.Fprint(a.stdout, a.redactor.String(text.String()))
			if summary != "" {
				var md bytes.Buffer
				r.WriteMarkdown(&md)
				f, err := os.OpenFile(summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				if err == nil {
					_, err = f.WriteString(a.redactor.String(md.String()))
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
				if err != nil {
					return withCode(ExitFailure, fmt.Errorf("doctor: --summary: %w", err))
				}
			}
			if code := r.ExitCode(); code != doctor.ExitOK {
				return withCode(code, errSilent)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&sendTest, "send-test", false, "send a test message to each configured channel")
	cmd.Flags().StringVar(&summary, "summary", "", "append the report as Markdown to this file (e.g. $GITHUB_STEP_SUMMARY)")
	return cmd
}

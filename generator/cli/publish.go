package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/run"
)

func (a *app) publishCommand() *cobra.Command {
	var po run.PublishOptions
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Upload the built site (--out) to Cloudflare Pages",
		Long: `Upload the built site (--out) to Cloudflare Pages with Direct Upload.

Only files Cloudflare does not have yet are uploaded, so republishing an unchanged site sends
no file content. Credentials come from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (and
CLOUDFLARE_API_BASE_URL to point elsewhere); the project from publish.cloudflare_pages in the
config. Without a token the publish is skipped with a reason and exits 0.

--branch makes a preview deployment unless it names the production branch. The commit hash
and message label the deployment; they default to GITHUB_SHA and git log -1 when available.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			o := a.runOptions(cfg)
			o.Publish = po
			res, err := run.Publish(cmd.Context(), o)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			a.printPublished(res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&po.Branch, "branch", "", "deploy to this branch: a preview unless it is the production branch")
	f.StringVar(&po.CommitHash, "commit-hash", "", "the commit the site was built from (default: GITHUB_SHA or git log -1)")
	f.StringVar(&po.CommitMessage, "commit-message", "", "the deployment's message (default: git log -1)")
	f.BoolVar(&po.DryRun, "dry-run", false, "list what would be uploaded; upload and deploy nothing")
	f.BoolVar(&po.SkipCaching, "skip-caching", false, "upload every file, even those Cloudflare has")
	return cmd
}

// printPublished says what a publish did: the deployment URL, the dry run's list, or why it was
// skipped.
func (a *app) printPublished(res run.Published) {
	d := res.Deployment
	switch {
	case res.Skipped != "" && !d.DryRun:
		fmt.Fprintf(a.stdout, "publish: skipped: %s\n", res.Skipped)
		return
	case res.Skipped != "":
		fmt.Fprintf(a.stdout, "publish: skipped: %s; listing every file, since Cloudflare cannot be asked which it has\n", res.Skipped)
	}
	for _, f := range d.Plan {
		fmt.Fprintf(a.stdout, "  upload %s  %d B  %s  %s\n", f.Path, f.Size, f.ContentType, f.Hash)
	}
	fmt.Fprintf(a.stdout, "publish: %s\n", d.Summary())
	if !d.DryRun {
		fmt.Fprintln(a.stdout, d.URL)
	}
}

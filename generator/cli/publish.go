package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/publish"
	"github.com/portfolio-report/portfolio/generator/publish/cloudflarepages"
	"github.com/portfolio-report/portfolio/generator/skip"
)

// publishFlags are publish's own flags; run can reuse them.
type publishFlags struct {
	branch        string
	commitHash    string
	commitMessage string
	dryRun        bool
	skipCaching   bool
	// summarised says the caller (run) prints the outcome in its own summary.
	summarised bool
}

func (a *app) publishCommand() *cobra.Command {
	var pf publishFlags
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
			_, err = a.publishSite(cmd.Context(), cfg, pf)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&pf.branch, "branch", "", "deploy to this branch: a preview unless it is the production branch")
	f.StringVar(&pf.commitHash, "commit-hash", "", "the commit the site was built from (default: GITHUB_SHA or git log -1)")
	f.StringVar(&pf.commitMessage, "commit-message", "", "the deployment's message (default: git log -1)")
	f.BoolVar(&pf.dryRun, "dry-run", false, "list what would be uploaded; upload and deploy nothing")
	f.BoolVar(&pf.skipCaching, "skip-caching", false, "upload every file, even those Cloudflare has")
	return cmd
}

// publisher returns the configured publisher, or a *skip.Error with the reason when
// credentials or the project are missing.
func (a *app) publisher(cfg *config.Config, skipCaching bool) (publish.Publisher, error) {
	opts := []cloudflarepages.Option{cloudflarepages.WithRedactor(a.redactor)}
	if skipCaching {
		opts = append(opts, cloudflarepages.WithSkipCaching())
	}
	p, err := cloudflarepages.FromEnv(a.getenv, cfg.Publish.CloudflarePages,
		&http.Client{Timeout: 5 * time.Minute}, a.log, opts...)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// publishMeta fills the deployment's labels from the flags, then GITHUB_SHA and git.
func (a *app) publishMeta(ctx context.Context, pf publishFlags) publish.Meta {
	m := publish.Meta{Branch: pf.branch, CommitHash: pf.commitHash, CommitMessage: pf.commitMessage, DryRun: pf.dryRun}
	if m.CommitHash == "" || m.CommitMessage == "" {
		hash, msg := publish.Commit(ctx, ".", a.getenv)
		if m.CommitHash == "" {
			m.CommitHash = hash
		}
		if m.CommitMessage == "" && (pf.commitHash == "" || pf.commitHash == hash) {
			m.CommitMessage = msg
		}
	}
	return m
}

// publishSite publishes --out and prints what happened: the deployment URL, the dry run's
// list, or why it was skipped (then the error is nil and the Deployment zero).
func (a *app) publishSite(ctx context.Context, cfg *config.Config, pf publishFlags) (publish.Deployment, error) {
	p, err := a.publisher(cfg, pf.skipCaching)
	if reason, ok := skip.Reason(err); ok {
		if pf.dryRun {
			return a.localPlan(reason)
		}
		if pf.summarised {
			return publish.Deployment{}, err // the caller reports the skip and its reason
		}
		fmt.Fprintf(a.stdout, "publish: skipped: %s\n", reason)
		return publish.Deployment{}, nil
	}
	if err != nil {
		return publish.Deployment{}, withCode(ExitFailure, err)
	}
	d, err := p.Publish(ctx, a.outDir, a.publishMeta(ctx, pf))
	if err != nil {
		return d, withCode(ExitFailure, err)
	}
	if d.DryRun {
		a.printPlan(d)
	}
	if pf.summarised {
		return d, nil
	}
	fmt.Fprintf(a.stdout, "publish: %s\n", d.Summary())
	if !d.DryRun {
		fmt.Fprintln(a.stdout, d.URL)
	}
	return d, nil
}

// localPlan is a dry run without credentials: every file of the site would be uploaded, as far
// as we can tell without asking Cloudflare.
func (a *app) localPlan(reason string) (publish.Deployment, error) {
	site, err := cloudflarepages.Scan(a.outDir, 0)
	if err != nil {
		return publish.Deployment{}, withCode(ExitFailure, err)
	}
	d := publish.Deployment{DryRun: true}
	d.Stats.Files, d.Stats.Bytes, d.Stats.Missing = len(site.Files), site.Bytes, len(site.Files)
	d.Stats.UploadedBytes = site.Bytes
	d.Stats.Buckets = len(cloudflarepages.Buckets(site.Files))
	for _, f := range site.Files {
		d.Plan = append(d.Plan, publish.PlannedFile{Path: f.Path, Hash: f.Hash, Size: f.Size, ContentType: f.ContentType})
	}
	fmt.Fprintf(a.stdout, "publish: skipped: %s; listing every file, since Cloudflare cannot be asked which it has\n", reason)
	a.printPlan(d)
	fmt.Fprintf(a.stdout, "publish: %s\n", d.Summary())
	return d, nil
}

func (a *app) printPlan(d publish.Deployment) {
	for _, f := range d.Plan {
		fmt.Fprintf(a.stdout, "  upload %s  %d B  %s  %s\n", f.Path, f.Size, f.ContentType, f.Hash)
	}
}

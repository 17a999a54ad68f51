package run

import (
	"context"

	"github.com/portfolio-report/portfolio/generator/publish"
	"github.com/portfolio-report/portfolio/generator/publish/cloudflarepages"
	"github.com/portfolio-report/portfolio/generator/skip"
)

// PublishOptions are publish's own options.
type PublishOptions struct {
	// Branch makes a preview deployment unless it is the production branch.
	Branch string
	// CommitHash and CommitMessage label the deployment; empty: GITHUB_SHA and git log -1.
	CommitHash, CommitMessage string
	// DryRun lists what would be uploaded and uploads nothing (Run never publishes when
	// Options.DryRun is set).
	DryRun bool
	// SkipCaching uploads every file, even those the remote has.
	SkipCaching bool
}

// Published is what Publish did.
type Published struct {
	Deployment publish.Deployment
	// Skipped is why nothing was published: no credentials, no project. With DryRun the
	// Deployment is then a plan made locally that lists every file of the site, since the remote
	// cannot be asked which it has.
	Skipped string
}

// Publisher is the publisher registry: the publisher the config and the environment ask for,
// or a *skip.Error saying what is missing. Cloudflare Pages (publish.cloudflare_pages) is the
// one there is.
func Publisher(o Options) (publish.Publisher, error) {
	o = o.withDefaults()
	opts := []cloudflarepages.Option{cloudflarepages.WithSleep(o.Sleep), cloudflarepages.WithRedactor(o.Redactor)}
	if o.Publish.SkipCaching {
		opts = append(opts, cloudflarepages.WithSkipCaching())
	}
	p, err := cloudflarepages.FromEnv(o.Getenv, o.Config.Publish.CloudflarePages, o.HTTP.Publish, o.Log, opts...)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Publish is `portfolio publish`: it uploads the built site in o.Out with the configured
// publisher. Missing credentials or a missing project are not an error: Published.Skipped
// says why nothing was published.
func Publish(ctx context.Context, o Options) (Published, error) {
	return publishSite(ctx, o.withDefaults())
}

func publishSite(ctx context.Context, o Options) (Published, error) {
	p, err := Publisher(o)
	if reason, ok := skip.Reason(err); ok {
		if !o.Publish.DryRun {
			return Published{Skipped: reason}, nil
		}
		d, err := localPlan(o.Out)
		return Published{Deployment: d, Skipped: reason}, err
	}
	if err != nil {
		return Published{}, err
	}
	d, err := p.Publish(ctx, o.Out, publishMeta(ctx, o))
	return Published{Deployment: d}, err
}

// publishMeta labels the deployment from the options, then GITHUB_SHA and git.
func publishMeta(ctx context.Context, o Options) publish.Meta {
	po := o.Publish
	m := publish.Meta{Branch: po.Branch, CommitHash: po.CommitHash, CommitMessage: po.CommitMessage, DryRun: po.DryRun}
	if m.CommitHash == "" || m.CommitMessage == "" {
		hash, msg := publish.Commit(ctx, ".", o.Getenv)
		if m.CommitHash == "" {
			m.CommitHash = hash
		}
		if m.CommitMessage == "" && (po.CommitHash == "" || po.CommitHash == hash) {
			m.CommitMessage = msg
		}
	}
	return m
}

// localPlan is a dry run without credentials: every file of the site would be uploaded, as far
// as can be told without asking Cloudflare.
func localPlan(dir string) (publish.Deployment, error) {
	site, err := cloudflarepages.Scan(dir, 0)
	if err != nil {
		return publish.Deployment{}, err
	}
	d := publish.Deployment{DryRun: true}
	d.Stats.Files, d.Stats.Bytes, d.Stats.Missing = len(site.Files), site.Bytes, len(site.Files)
	d.Stats.UploadedBytes = site.Bytes
	d.Stats.Buckets = len(cloudflarepages.Buckets(site.Files))
	for _, f := range site.Files {
		d.Plan = append(d.Plan, publish.PlannedFile{Path: f.Path, Hash: f.Hash, Size: f.Size, ContentType: f.ContentType})
	}
	return d, nil
}

// Package publish puts the built site somewhere people can read it. A Publisher uploads a
// folder; cloudflarepages is the one we have (Cloudflare Pages Direct Upload).
package publish

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Publisher uploads the built site in dir and returns the deployment it made.
//
// With meta.DryRun it changes nothing remotely: it reports what it would upload in
// Deployment.Plan and leaves ID and URL empty.
type Publisher interface {
	Publish(ctx context.Context, dir string, meta Meta) (Deployment, error)
}

// Meta describes what is being published: the commit the site was built from and where it goes.
type Meta struct {
	// Branch makes a preview deployment when it is set and is not the project's production
	// branch. Empty means production.
	Branch string
	// CommitHash and CommitMessage label the deployment in the Cloudflare dashboard.
	CommitHash    string
	CommitMessage string
	// CommitDirty, when set, says whether the working tree had uncommitted changes.
	CommitDirty *bool
	// DryRun lists what would be uploaded without uploading or deploying.
	DryRun bool
}

// Deployment is what a publish made (or, for a dry run, would make).
type Deployment struct {
	ID          string    `json:"id,omitempty"`
	URL         string    `json:"url,omitempty"`         // e.g. https://3f2a9c1e.portfolio.pages.dev
	Environment string    `json:"environment,omitempty"` // production or preview
	Branch      string    `json:"branch,omitempty"`
	Stage       string    `json:"stage,omitempty"`  // latest stage name, e.g. deploy
	Status      string    `json:"status,omitempty"` // latest stage status, e.g. success
	CreatedOn   time.Time `json:"created_on,omitzero"`
	Aliases     []string  `json:"aliases,omitempty"`

	Stats Stats `json:"stats"`
	// Plan lists the files that were (or, for a dry run, would be) uploaded, sorted by path.
	Plan   []PlannedFile `json:"plan,omitempty"`
	DryRun bool          `json:"dry_run,omitempty"`
}

// Stats counts the work a publish did.
type Stats struct {
	Files         int   `json:"files"`          // files in the site (the manifest)
	Bytes         int64 `json:"bytes"`          // their total size
	Missing       int   `json:"missing"`        // files the remote did not have
	Uploaded      int   `json:"uploaded"`       // files whose content was sent
	UploadedBytes int64 `json:"uploaded_bytes"` // their raw size
	Buckets       int   `json:"buckets"`        // upload requests that succeeded
	Requests      int   `json:"requests"`       // HTTP requests made, retries included
	Retries       int   `json:"retries"`        // requests that were repeated after a fault
}

// PlannedFile is one file that is missing remotely.
type PlannedFile struct {
	Path        string `json:"path"` // relative, with /
	Hash        string `json:"hash"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// Summary is the one line a person reads after a publish.
func (d Deployment) Summary() string {
	if d.DryRun {
		return fmt.Sprintf("dry run: would upload %d of %d files (%s) in %d %s",
			d.Stats.Missing, d.Stats.Files, humanBytes(d.Stats.UploadedBytes), d.Stats.Buckets, plural(d.Stats.Buckets, "bucket"))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "deployed %s", d.URL)
	if d.Environment != "" {
		fmt.Fprintf(&b, " (%s", d.Environment)
		if d.Branch != "" {
			fmt.Fprintf(&b, ", branch %s", d.Branch)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ": %d files, %d uploaded (%s), %d requests",
		d.Stats.Files, d.Stats.Uploaded, humanBytes(d.Stats.UploadedBytes), d.Stats.Requests)
	if d.Status != "" && d.Status != "success" {
		fmt.Fprintf(&b, ", stage %s %s", d.Stage, d.Status)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

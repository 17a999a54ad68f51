package github

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// KindState is the per-product collection state: cursors. It holds no secret and nothing a
// report needs; deleting it costs one full collection. It changes only when something changed
// upstream (a new run, deployment or incident update): state that would move with time alone
// is derived from the clock, so a quiet run leaves the file as it was (issue 17).
var KindState = store.Kind{Name: "github-state", Version: 1}

// StateDoc is where a product's state lives in data/ (one file per product, so products
// collected concurrently never write the same file).
func StateDoc(productID string) string { return "state/github/" + productID + ".json" }

// state is what a product's collection remembers between runs.
type state struct {
	// Config identifies what the cursors are for (repository, deploy source, workflow, branch,
	// environment, label); when it changes, the state starts over.
	Config        string `json:"config"`
	DefaultBranch string `json:"default_branch,omitempty"`
	// RunsListed says the workflow runs of the history were listed once; NewestRun is the
	// created time of the newest run seen, where a later listing starts at the latest, so runs
	// created while collection failed for days are still found. PredecessorDone says the
	// latest successful run before the history was looked up.
	RunsListed      bool       `json:"runs_listed,omitempty"`
	NewestRun       *time.Time `json:"newest_run,omitempty"`
	PredecessorDone bool       `json:"predecessor_done,omitempty"`
	// Pending runs were listed but not completed yet (created time, to keep them in the listing).
	Pending []pendingRun `json:"pending,omitempty"`
	// Deployments source: the newest deployment created time seen, the updated_at of each
	// deployment judged recently, and deployments with no outcome status yet.
	DeploymentsFrom *time.Time        `json:"deployments_from,omitempty"`
	Judged          map[string]string `json:"judged,omitempty"`  // id → updated_at
	Waiting         []int64           `json:"waiting,omitempty"` // ids
	// IssuesAllListed says every incident issue was listed once; IssuesUpdated is the latest
	// updated_at among the incident issues seen: later listings ask for the issues updated
	// since the day before it (GitHub's since filter), which is where an update must show.
	IssuesAllListed bool       `json:"issues_all_listed,omitempty"`
	IssuesUpdated   *time.Time `json:"issues_updated,omitempty"`
	// Returned are the records handed to the collect loop the last time there were any, as
	// JSON: if data/ does not hold them at the next run (the run was interrupted before
	// writing), the state is dropped so nothing a 304 or a cursor would hide is lost.
	Returned []json.RawMessage `json:"returned,omitempty"`

	// Written by earlier versions, read once: the listing start of the workflow runs and when
	// the incident issues were last listed, both moving with time; ETags are now kept out of
	// data/ (etagCache).
	OldRunsFrom     *time.Time `json:"runs_from,omitempty"`
	OldIssuesListed *time.Time `json:"issues_listed,omitempty"`
}

// upgradeLegacy turns what earlier versions wrote into the fields that replaced them.
func (st *state) upgradeLegacy() {
	if st.OldRunsFrom != nil {
		st.RunsListed = true
		if st.NewestRun == nil {
			st.NewestRun = st.OldRunsFrom
		}
	}
	if st.OldIssuesListed != nil {
		st.IssuesAllListed = true
		if st.IssuesUpdated == nil {
			t := st.OldIssuesListed.Add(-24 * time.Hour)
			st.IssuesUpdated = &t
		}
	}
	st.OldRunsFrom, st.OldIssuesListed = nil, nil
}

// KindETags is a product's ETags: a cache, kept in data/.cache/ (which holds a .gitignore of
// its own, so CI never commits it) rather than in the state, because an ETag belongs to the
// token that got it. GitHub Actions' GITHUB_TOKEN and a GitHub App's installation tokens change
// every run or hour, so their ETags never match again and, committed, would rewrite the file
// every run; a personal access token keeps them useful across runs (docs/dora.md).
var KindETags = store.Kind{Name: "github-etags", Version: 1}

// CacheDoc is where a product's ETags live.
func CacheDoc(productID string) string { return ".cache/github/" + productID + ".json" }

// etagCache is what CacheDoc holds: the ETags and the state they go with. ETags answered for
// other cursors (a state restored from git, a state started over) are not used: a 304 would
// then hide what the state never saw.
type etagCache struct {
	Config string          `json:"config"`
	State  string          `json:"state"` // stateDigest of the state written with them
	ETags  map[string]etag `json:"etags,omitempty"`
}

// stateDigest identifies a state's content.
func stateDigest(st state) string {
	b, _ := json.Marshal(st)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

type etag struct {
	URL  string `json:"url"`
	ETag string `json:"etag"`
}

type pendingRun struct {
	ID      int64     `json:"id"`
	Created time.Time `json:"created"`
}

// returned is one record handed back, tagged by kind.
type returned struct {
	Deployment *record.Deployment `json:"deployment,omitempty"`
	Incident   *record.Incident   `json:"incident,omitempty"`
}

func configKey(p config.Product) string {
	d := p.Deploy
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s", p.Repository, d.Source, d.Workflow, d.Branch, d.Environment, p.Incidents.Label)
}

// load reads the product's state, its ETags and its stored records; a state written for
// another configuration, or one whose last records never reached data/, starts over.
func (c *collector) load() error {
	c.etags = map[string]etag{}
	if c.s.store == nil { // no data folder: every request is plain, nothing is remembered
		c.st = state{Config: configKey(c.p)}
		c.oldAt = map[string]int{}
		return nil
	}
	if _, err := c.s.store.ReadDoc(StateDoc(c.p.ID), KindState, &c.st); err != nil {
		return fmt.Errorf("github %s: read state: %w", c.p.ID, err)
	}
	c.read = stateDigest(c.st)
	var cache etagCache
	if ok, err := c.s.store.ReadDoc(CacheDoc(c.p.ID), KindETags, &cache); err != nil {
		c.log.Warn("github: ETag cache unreadable, starting without", "err", err)
	} else if ok && cache.Config == c.st.Config && cache.State == c.read && cache.ETags != nil {
		c.etags = cache.ETags
	}
	c.st.upgradeLegacy()
	var err error
	if c.oldDeps, err = c.s.store.Deployments(c.p.ID); err != nil {
		return fmt.Errorf("github %s: read deployments: %w", c.p.ID, err)
	}
	if c.oldIncs, err = c.s.store.Incidents(c.p.ID); err != nil {
		return fmt.Errorf("github %s: read incidents: %w", c.p.ID, err)
	}
	sortIncidents(c.oldIncs)
	c.oldAt = make(map[string]int, len(c.oldDeps))
	for i, d := range c.oldDeps {
		c.oldAt[d.ID] = i
	}
	key := configKey(c.p)
	if c.st.Config != key || !c.returnedStored() {
		if c.st.Config != "" {
			c.log.Info("github state reset", "reason", map[bool]string{true: "config changed", false: "last records missing from data"}[c.st.Config != key])
		}
		c.st = state{Config: key}
		c.etags = map[string]etag{}
	}
	return nil
}

// returnedStored reports whether every record returned last time is in data/ as returned.
func (c *collector) returnedStored() bool {
	if len(c.st.Returned) == 0 {
		return true
	}
	deps := make(map[string]string, len(c.oldDeps))
	for _, d := range c.oldDeps {
		b, _ := json.Marshal(d)
		deps[d.ID] = string(b)
	}
	incs := make(map[int]string, len(c.oldIncs))
	for _, i := range c.oldIncs {
		b, _ := json.Marshal(i)
		incs[i.Number] = string(b)
	}
	for _, raw := range c.st.Returned {
		var r returned
		if json.Unmarshal(raw, &r) != nil {
			return false
		}
		switch {
		case r.Deployment != nil:
			b, _ := json.Marshal(r.Deployment)
			if deps[r.Deployment.ID] != string(b) {
				return false
			}
		case r.Incident != nil:
			b, _ := json.Marshal(r.Incident)
			if incs[r.Incident.Number] != string(b) {
				return false
			}
		}
	}
	return true
}

// Merge applies the collect loop's rule to stored records: a new deployment replaces the
// stored one with the same ID, others are added; the result is sorted by time, then ID.
func Merge(old, news []record.Deployment) []record.Deployment {
	at := make(map[string]int, len(old)+len(news))
	out := slices.Clone(old)
	for i, d := range out {
		at[d.ID] = i
	}
	for _, d := range news {
		if i, ok := at[d.ID]; ok {
			out[i] = d
			continue
		}
		at[d.ID] = len(out)
		out = append(out, d)
	}
	sortDeployments(out)
	return out
}

func sortDeployments(v []record.Deployment) {
	slices.SortStableFunc(v, func(a, b record.Deployment) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

// save writes the state with the records about to be returned (when there are any: the
// last ones returned are kept otherwise, so a quiet run writes nothing), then the ETags with
// the digest of the state they go with.
func (c *collector) save(res sourceResult) error {
	if c.s.store == nil {
		return nil
	}
	if len(res.Deployments)+len(res.Incidents) > 0 {
		c.st.Returned = nil
		for i := range res.Deployments {
			b, _ := json.Marshal(returned{Deployment: &res.Deployments[i]})
			c.st.Returned = append(c.st.Returned, b)
		}
		for i := range res.Incidents {
			b, _ := json.Marshal(returned{Incident: &res.Incidents[i]})
			c.st.Returned = append(c.st.Returned, b)
		}
	}
	if err := c.s.store.WriteDoc(StateDoc(c.p.ID), KindState, c.st); err != nil {
		return fmt.Errorf("github %s: write state: %w", c.p.ID, err)
	}
	if err := c.saveETags(); err != nil {
		c.log.Warn("github: could not keep the ETags", "err", err)
	}
	return nil
}

// saveETags writes the ETag cache, and the .gitignore that keeps data/.cache out of git.
func (c *collector) saveETags() error {
	ignore := filepath.Join(c.s.store.Dir(), ".cache", ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := store.WriteFileAtomic(ignore, []byte("# A cache (ETags of the tokens that got them): never committed.\n*\n")); err != nil {
			return err
		}
	}
	return c.s.store.WriteDoc(CacheDoc(c.p.ID), KindETags, etagCache{Config: c.st.Config, State: stateDigest(c.st), ETags: c.etags})
}

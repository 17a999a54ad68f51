package github

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// KindState is the per-product collection state: ETags and cursors. It holds no secret and
// nothing a report needs; deleting it costs one full collection.
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
	// ETags of the conditional requests, by purpose ("repo", "runs", "issues", "deployments",
	// "statuses:<id>"), each with the URL it answered.
	ETags map[string]etag `json:"etags,omitempty"`
	// RunsFrom is the created date the workflow-run listing starts at; PredecessorDone says the
	// latest successful run before the first listing was looked up.
	RunsFrom        *time.Time `json:"runs_from,omitempty"`
	PredecessorDone bool       `json:"predecessor_done,omitempty"`
	// Pending runs were listed but not completed yet (created time, to keep them in the listing).
	Pending []pendingRun `json:"pending,omitempty"`
	// Deployments source: the newest deployment created time seen, the updated_at of each
	// deployment judged recently, and deployments with no outcome status yet.
	DeploymentsFrom *time.Time        `json:"deployments_from,omitempty"`
	Judged          map[string]string `json:"judged,omitempty"`  // id → updated_at
	Waiting         []int64           `json:"waiting,omitempty"` // ids
	// IssuesListed is when the incident issues were last listed.
	IssuesListed *time.Time `json:"issues_listed,omitempty"`
	// Returned are the records handed to the collect loop in the last run, as JSON: if data/
	// does not hold them at the next run (the run was interrupted before writing), the
	// state is dropped so nothing a 304 would hide is lost.
	Returned []json.RawMessage `json:"returned,omitempty"`
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

// load reads the product's state and stored records; a state written for another
// configuration, or one whose last records never reached data/, starts over.
func (c *collector) load() error {
	if c.s.store == nil { // no data folder: every request is plain, nothing is remembered
		c.st = state{Config: configKey(c.p), ETags: map[string]etag{}}
		c.oldAt = map[string]int{}
		return nil
	}
	if _, err := c.s.store.ReadDoc(StateDoc(c.p.ID), KindState, &c.st); err != nil {
		return fmt.Errorf("github %s: read state: %w", c.p.ID, err)
	}
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
	}
	if c.st.ETags == nil {
		c.st.ETags = map[string]etag{}
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

// save writes the state with the records about to be returned.
func (c *collector) save(res sourceResult) error {
	if c.s.store == nil {
		return nil
	}
	c.st.Returned = c.st.Returned[:0]
	for i := range res.Deployments {
		b, _ := json.Marshal(returned{Deployment: &res.Deployments[i]})
		c.st.Returned = append(c.st.Returned, b)
	}
	for i := range res.Incidents {
		b, _ := json.Marshal(returned{Incident: &res.Incidents[i]})
		c.st.Returned = append(c.st.Returned, b)
	}
	if err := c.s.store.WriteDoc(StateDoc(c.p.ID), KindState, c.st); err != nil {
		return fmt.Errorf("github %s: write state: %w", c.p.ID, err)
	}
	return nil
}

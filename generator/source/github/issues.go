package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/paging"
	"github.com/portfolio-report/portfolio/generator/record"
)

// MaxBodyBytes caps the incident body kept in data/ (the report shows the start of it).
const MaxBodyBytes = 4000

// causedBy matches a body line "Caused-by: <sha>" (7 to 40 hex digits), the key in any case.
var causedBy = regexp.MustCompile(`(?im)^[ \t]*caused-by:[ \t]*([0-9a-f]{7,40})[ \t]*\r?$`)

// ParseCausedBy returns the lowercase sha of the first "Caused-by: <sha>" line of an issue
// body, or "".
func ParseCausedBy(body string) string {
	m := causedBy.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

// incidents collects the issues labelled incidents.label, open and closed (pull requests, which
// the issues endpoint also lists, are left out). The first collection lists them all; every
// run then lists those updated since the day before the latest update seen (GitHub's since:
// "only results last updated after the given time"). The cursor moves only when an incident
// issue changes, so the request, and its ETag, stay the same while nothing happens.
func (c *collector) incidents(ctx context.Context) error {
	if !c.st.IssuesAllListed {
		if err := c.listIssues(ctx, "", nil); err != nil {
			return err
		}
		c.st.IssuesAllListed = true
		if c.st.IssuesUpdated == nil {
			return nil // no incident yet: the next runs list all again, as cheap
		}
		// The listing of the next runs, once now, for its ETag.
	}
	var since *time.Time
	if u := c.st.IssuesUpdated; u != nil {
		t := dayStart(*u).AddDate(0, 0, -1)
		since = &t
	}
	if err := c.listIssues(ctx, "issues", since); err != nil && !errors.Is(err, errNotModified) {
		return err
	}
	return nil
}

// listIssues lists the incident issues updated since (nil: all), all pages; key names the
// first page's ETag ("" for none). It moves IssuesUpdated to the latest update listed.
func (c *collector) listIssues(ctx context.Context, key string, since *time.Time) error {
	path := fmt.Sprintf("repos/%s/%s/issues", url.PathEscape(c.owner), url.PathEscape(c.repo))
	pg := paging.Pages{What: "incident issues"}
	for page := 1; ; {
		q := url.Values{"labels": {c.p.Incidents.Label}, "state": {"all"}, "sort": {"updated"}, "direction": {"asc"}, "per_page": {"100"}}
		if since != nil {
			q.Set("since", since.UTC().Format(time.RFC3339))
		}
		k := key
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
			k = ""
		}
		var list []*gh.Issue
		resp, err := c.getJSON(ctx, k, path, q, &list)
		if errors.Is(err, errNotModified) {
			return err
		}
		if err != nil {
			return c.wrap("list incident issues", err)
		}
		for _, is := range list {
			if is.IsPullRequest() {
				continue
			}
			if u := is.GetUpdatedAt().UTC(); c.st.IssuesUpdated == nil || u.After(*c.st.IssuesUpdated) {
				c.st.IssuesUpdated = &u
			}
			c.putIncident(incidentOf(is))
		}
		if page, err = pg.Next(page, resp.NextPage); err != nil {
			return c.wrap("list incident issues", err)
		}
		if page == 0 {
			return nil
		}
	}
}

func incidentOf(is *gh.Issue) record.Incident {
	in := record.Incident{
		Number:      is.GetNumber(),
		Title:       is.GetTitle(),
		URL:         is.GetHTMLURL(),
		CreatedAt:   is.GetCreatedAt().UTC(),
		StateReason: is.GetStateReason(),
		CausedBy:    ParseCausedBy(is.GetBody()),
		Body:        truncate(is.GetBody(), MaxBodyBytes),
	}
	if is.GetState() == "closed" && is.ClosedAt != nil {
		t := is.GetClosedAt().UTC()
		in.ClosedAt = &t
	}
	return in
}

func (c *collector) putIncident(in record.Incident) {
	i, found := slices.BinarySearchFunc(c.oldIncs, in.Number, func(x record.Incident, n int) int { return x.Number - n })
	if found && sameIncident(c.oldIncs[i], in) {
		delete(c.incs, in.Number)
		return
	}
	c.incs[in.Number] = in
}

func sameIncident(a, b record.Incident) bool {
	if (a.ClosedAt == nil) != (b.ClosedAt == nil) || (a.ClosedAt != nil && !a.ClosedAt.Equal(*b.ClosedAt)) {
		return false
	}
	return a.Number == b.Number && a.Title == b.Title && a.URL == b.URL && a.CreatedAt.Equal(b.CreatedAt) &&
		a.StateReason == b.StateReason && a.CausedBy == b.CausedBy && a.Body == b.Body
}

func sortIncidents(v []record.Incident) {
	slices.SortFunc(v, func(a, b record.Incident) int { return a.Number - b.Number })
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

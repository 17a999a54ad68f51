// Package paging ends the listings of APIs that page by links (GitHub's Link header, as
// go-github reads it into Response.NextPage): a next page already read, more pages than the
// listing's total allows, or more than a cap is an error, never a loop and never a silent cut.
package paging

import "fmt"

// DefaultMax is the most pages a listing may take unless its Pages says otherwise: 100 pages
// of 100 items.
const DefaultMax = 100

// Error is a listing that does not end as the API's paging promises.
type Error struct {
	What    string
	Problem string
}

func (e *Error) Error() string { return "listing " + e.What + ": " + e.Problem }

// Pages follows one listing. The zero value with What set is ready to use.
type Pages struct {
	What string // what is listed, for the error
	Max  int    // the most pages; 0: DefaultMax
	seen map[int]bool
	cap  int // the most pages the listing's total allows; 0: no total
}

// Total records the listing's total number of items (0 or more) at perPage a page.
func (p *Pages) Total(items, perPage int) {
	if items >= 0 && perPage > 0 {
		p.cap = max((items+perPage-1)/perPage, 1)
	}
}

// Next returns the page to read after page, given the next page the answer named (0: none),
// and 0 at the end; or an *Error.
func (p *Pages) Next(page, next int) (int, error) {
	if p.seen == nil {
		p.seen = map[int]bool{}
	}
	p.seen[page] = true
	limit := p.Max
	if limit <= 0 {
		limit = DefaultMax
	}
	switch {
	case next == 0:
		return 0, nil
	case p.seen[next]:
		return 0, &Error{What: p.What, Problem: fmt.Sprintf("page %d links to page %d, already read", page, next)}
	case p.cap > 0 && len(p.seen) >= p.cap:
		return 0, &Error{What: p.What, Problem: fmt.Sprintf("page %d links to another page, more than its total allows (%d)", page, p.cap)}
	case len(p.seen) >= limit:
		return 0, &Error{What: p.What, Problem: fmt.Sprintf("more than %d pages", limit)}
	}
	return next, nil
}

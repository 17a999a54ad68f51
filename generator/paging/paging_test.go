package paging_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/paging"
)

func TestPages(t *testing.T) {
	follow := func(p *paging.Pages, next func(page int) int) (int, error) {
		page, n := 1, 0
		for {
			n++
			var err error
			if page, err = p.Next(page, next(page)); err != nil || page == 0 {
				return n, err
			}
		}
	}
	tests := []struct {
		name    string
		pages   paging.Pages
		total   int
		next    func(page int) int
		read    int
		wantErr string
	}{
		{"three pages", paging.Pages{What: "x"}, -1, func(p int) int { return map[int]int{1: 2, 2: 3}[p] }, 3, ""},
		{"a link back", paging.Pages{What: "x"}, -1, func(p int) int { return 1 }, 1, "page 1 links to page 1, already read"},
		{"a link back after two", paging.Pages{What: "x"}, -1, func(p int) int { return map[int]int{1: 2, 2: 1}[p] }, 2, "page 2 links to page 1"},
		{"endless", paging.Pages{What: "x", Max: 5}, -1, func(p int) int { return p + 1 }, 5, "more than 5 pages"},
		{"past the total", paging.Pages{What: "x"}, 250, func(p int) int { return p + 1 }, 3, "more than its total allows (3)"},
		{"the total's last page", paging.Pages{What: "x"}, 250, func(p int) int { return map[int]int{1: 2, 2: 3}[p] }, 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pages
			if tc.total >= 0 {
				p.Total(tc.total, 100)
			}
			n, err := follow(&p, tc.next)
			var pe *paging.Error
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err %v, want %q", err, tc.wantErr)
			}
			if n != tc.read {
				t.Errorf("read %d pages, want %d", n, tc.read)
			}
		})
	}
}

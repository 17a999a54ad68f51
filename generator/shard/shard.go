// Package shard splits a collect across jobs and puts their data back together: the matrix of
// shards for GitHub Actions (Plan), the archive of the files one shard changed (Pack), and
// the merge of every shard's archive into one data/ (Merge), where the products of a shard that
// delivered nothing are recorded as timed_out rather than silently missing.
//
// The shards themselves are `portfolio collect --shard i/n` (source.Shard): product number k
// (config order, from 0) belongs to shard k mod n + 1, and a shard changes only its products'
// files. docs/sharding.md describes the workflow built on this package.
package shard

import (
	"fmt"
	"path"
	"strings"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
)

// Entry is one shard of the matrix: a job of the workflow's collect matrix.
type Entry struct {
	Shard    string `json:"shard"` // "i/n", as collect --shard and pack --shard take it
	Index    int    `json:"index"`
	Count    int    `json:"count"`
	Products int    `json:"products"` // how many products it collects
}

// Matrix is what GitHub Actions' strategy.matrix takes through fromJSON: an include list, one
// job per shard.
type Matrix struct {
	Include []Entry `json:"include"`
}

// Plan splits products into count shards. A count above the number of products is cut to it
// (a shard without products would be a job that does nothing); a portfolio without products
// is one shard. count must be at least 1.
func Plan(products []config.Product, count int) (Matrix, error) {
	if count < 1 {
		return Matrix{}, fmt.Errorf("shard count: want a whole number of at least 1, got %d", count)
	}
	count = min(count, max(len(products), 1))
	m := Matrix{Include: make([]Entry, count)}
	for i := range count {
		s := source.Shard{Index: i + 1, Count: count}
		m.Include[i] = Entry{Shard: fmt.Sprintf("%d/%d", i+1, count), Index: i + 1, Count: count, Products: len(Products(products, s))}
	}
	return m, nil
}

// Products lists the IDs of the products shard s collects, in config order.
func Products(products []config.Product, s source.Shard) []string {
	var ids []string
	for k, p := range products {
		if s.Selects(k) {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// Owner names the product a file of data/ belongs to, from its slash-separated path relative
// to data/: snapshots/<month>/<product>.<day>.jsonl (and the .torn, .ahead and .damaged files
// beside it), products/<product>/…, state/<source>/<product>.json. Other files (meta.json,
// alerts.json, state/posthog-sent.json) belong to no product: no shard may change them.
func Owner(p string) (string, bool) {
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 3 && parts[0] == "snapshots":
		if id, _, ok := strings.Cut(parts[2], "."); ok && id != "" {
			return id, true
		}
	case len(parts) >= 3 && parts[0] == "products":
		return parts[1], parts[1] != ""
	case len(parts) == 3 && parts[0] == "state" && path.Ext(parts[2]) == ".json":
		if id := strings.TrimSuffix(parts[2], ".json"); id != "" && !strings.Contains(id, ".") {
			return id, true
		}
	}
	return "", false
}

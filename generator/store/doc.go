// Package store keeps portfolio's history in data/: versioned JSON documents written atomically,
// monthly snapshot logs with one snapshot per line, migrations of older schema versions, and a
// lock so two runs never write at once. See data/README.md for the layout.
package store

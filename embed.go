// Package portfolio embeds the site's templates and static files, so the binary runs from any folder.
package portfolio

import "embed"

// Files holds templates/ and static/ (all: keeps files starting with _ or .).
//
//go:embed all:templates all:static
var Files embed.FS

// Schema is portfolio.schema.json, the JSON Schema of portfolio.json: the structural rules
// generator/config validates with, and what editors complete and check the file against.
//
//go:embed portfolio.schema.json
var Schema []byte

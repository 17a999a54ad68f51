// Package portfolio embeds the site's templates and static files, so the binary runs from any folder.
package portfolio

import "embed"

// Files holds templates/ and static/ (all: keeps files starting with _ or .).
//
//go:embed all:templates all:static
var Files embed.FS

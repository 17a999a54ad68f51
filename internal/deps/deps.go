//go:build tools

// Package deps pins the project's libraries while the packages that use them are written.
package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/cloudflare/cloudflare-go"
	_ "github.com/go-echarts/go-echarts/v2/charts"
	_ "github.com/gofrs/flock"
	_ "github.com/google/go-github/v60/github"
	_ "github.com/posthog/posthog-go"
	_ "github.com/rhysd/actionlint"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/slack-go/slack"
	_ "github.com/sourcegraph/conc"
	_ "github.com/spf13/cobra"
	_ "github.com/wneessen/go-mail"
	_ "github.com/yuin/goldmark"
	_ "lukechampine.com/blake3"
)

#!/bin/sh
# Regenerates the API description subsets the contract tests use from the vendors' full
# descriptions (docs/contracts.md says where to get each one). Pass the directory holding them:
#
#   generator/testutil/contract/testdata/regenerate.sh /path/to/full-descriptions
#
# It expects there:
#   cloudflare-openapi.json      cloudflare/api-schemas openapi.json
#   cloudflare-schema.graphql    Cloudflare's GraphQL schema (introspection dump)
#   github-api.github.com.json   github/rest-api-description (or npm @octokit/openapi generated/api.github.com.json)
#   posthog-schema.json          PostHog/posthog frontend/src/queries/schema.json
#   posthog-api-schema.json      a PostHog instance's OpenAPI (GET /api/schema/?format=json; set
#                                info.version to a string when it is null)
#   pagerduty-events-v2.json     PagerDuty/api-schema reference/events-v2/openapiv3.json
# Update the source/version/date lines of the *.ops.txt manifests to match, then read the diff.
set -eu
full=${1:?usage: regenerate.sh DIR-WITH-FULL-DESCRIPTIONS}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../../.."
run() { go run ./generator/testutil/contract/cmd/apisubset "$@"; }
t=generator/testutil/contract/testdata
run openapi -in "$full/cloudflare-openapi.json" -ops $t/cloudflare/openapi.ops.txt -out $t/cloudflare/openapi.json -drop-examples
run graphql -in "$full/cloudflare-schema.graphql" -ops $t/cloudflare/graphql.ops.txt -out $t/cloudflare/schema.graphql
run openapi -in "$full/github-api.github.com.json" -ops $t/github/openapi.ops.txt -out $t/github/openapi.json -drop-ext x-octokit -drop-examples
run openapi -in "$full/posthog-api-schema.json" -ops $t/posthog/annotations.ops.txt -out $t/posthog/annotations.json -drop-examples
run jsonschema -in "$full/posthog-schema.json" -wrap $t/posthog/query-api.wrapper.json -ops $t/posthog/jsonschema.ops.txt -out $t/posthog/openapi.json
run openapi -in "$full/pagerduty-events-v2.json" -ops $t/pagerduty/openapi.ops.txt -out $t/pagerduty/openapi.json

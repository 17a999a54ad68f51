package contract_test

import "github.com/portfolio-report/portfolio/generator/testutil/contract"

// knownDivergences are the client-side divergences of docs/contract-divergences.md, left for
// phase 2 of issue 13, and the calls no kept description covers. Each excuses only the problem
// it names; every other problem fails the test.
var knownDivergences = []contract.Divergence{
	// CF-PAGES-LOGS-SIZE: the deployment logs are read with ?size=…, as wrangler does; the
	// description defines no query parameter.
	{ID: "CF-PAGES-LOGS-SIZE", Operation: "GET /accounts/{account_id}/pages/projects/{project_name}/deployments/{deployment_id}/history/logs", Contains: "query parameters the operation does not define: size"},
	// GAP-POSTHOG-SENDER: no description of PostHog's capture (/batch/) or annotations
	// endpoints is kept; the sender's calls are recorded but not validated.
	{ID: "GAP-POSTHOG-SENDER", Operation: "POST /batch/", Contains: "no operation of the description matches"},
	{ID: "GAP-POSTHOG-SENDER", Operation: "GET /api/projects/*", Contains: "no operation of the description matches"},
	{ID: "GAP-POSTHOG-SENDER", Operation: "POST /api/projects/*", Contains: "no operation of the description matches"},
}

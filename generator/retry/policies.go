package retry

import "time"

// The policy of each API portfolio calls, in one place. The docs quote these numbers:
// docs/collect.md (sources), docs/healthchecks.md, docs/publishing.md, docs/alerting.md.
// A caller sets Sleep (tests: a recorder) and, where it counts retries, OnRetry.

// CloudflareCollect is the Cloudflare source's REST reads and GraphQL queries: two retries
// after 1 and 2 s; a Retry-After over 10 s is left to the next run (Cloudflare blocks a token
// for five minutes once its limit is spent, so waiting longer only delays the run).
func CloudflareCollect() Policy {
	return Policy{Attempts: 3, Backoff: time.Second, MaxWait: 10 * time.Second}
}

// CloudflareHealthchecks is `portfolio healthchecks`: two retries after 1 and 2 s, and a
// Retry-After of up to a minute is waited out (a person is watching, the run is short).
func CloudflareHealthchecks() Policy {
	return Policy{Attempts: 3, Backoff: time.Second, MaxWait: time.Minute}
}

// PostHog is the PostHog source's HogQL queries and annotations: three retries after 1, 2
// and 4 s; a Retry-After over 10 s is left to the next run.
func PostHog() Policy {
	return Policy{Attempts: 4, Backoff: time.Second, MaxWait: 10 * time.Second}
}

// GitHub is the GitHub source's calls: one retry in all, after 1 s for a 5xx or a transport
// error, or after the Retry-After of a secondary rate limit (a minute when it names none) when
// that is at most a minute.
func GitHub() Policy {
	return Policy{Attempts: 2, Backoff: time.Second, MaxWait: time.Minute}
}

// Probe is a product's health probe: one retry after 2 s.
func Probe() Policy {
	return Policy{Attempts: 2, Backoff: 2 * time.Second}
}

// Notify is every alert channel's send: two retries after 1 and 2 s, or after the server's
// Retry-After when that is at most 30 s; a longer one leaves the send to the next run.
func Notify() Policy {
	return Policy{Attempts: 3, Backoff: time.Second, MaxWait: 30 * time.Second}
}

// Cloudflare Pages Direct Upload, step by step (wrangler's rules, docs/publishing.md). No wait
// is longer than two minutes: a backoff is cut to that, and a longer Retry-After fails the
// publish rather than outlast the CI job.
const pagesMaxWait = 2 * time.Minute

// PagesRead is the project, upload token and deployment status reads: three retries after 1,
// 2 and 4 s.
func PagesRead() Policy { return pages(4) }

// PagesCheckMissing is check-missing: five retries after 1, 2, 4, 8 and 16 s.
func PagesCheckMissing() Policy { return pages(6) }

// PagesUpload is one bucket's upload: five retries after 2^n s (a 524 and a new upload token
// do not always count; see cloudflarepages).
func PagesUpload() Policy { return pages(6) }

// PagesUpsertHashes is upsert-hashes: one retry after 1 s.
func PagesUpsertHashes() Policy { return pages(2) }

// PagesCreateDeployment is creating the deployment: three tries, after 1 and 2 s.
func PagesCreateDeployment() Policy { return pages(3) }

func pages(attempts int) Policy {
	return Policy{Attempts: attempts, Backoff: time.Second, MaxBackoff: pagesMaxWait, MaxWait: pagesMaxWait}
}

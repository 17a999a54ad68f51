package repos

import (
	"context"

	gh "github.com/google/go-github/v60/github"
)

// API is the client's go-github client (base URL and token set), for the commands that read
// what repos itself does not: portfolio init and portfolio doctor. Send its calls through
// Call, which applies the client's retry policy.
func (c *Client) API() *gh.Client { return c.gh }

// Call runs one call by retry.GitHub, as the client's own calls run: a secondary rate limit
// is waited out once when it says how long (up to a minute); a 5xx or network error is retried
// once, unless create says the call creates something and may have happened.
func (c *Client) Call(ctx context.Context, create bool, f func() (*gh.Response, error)) error {
	return c.call(ctx, create, f)
}

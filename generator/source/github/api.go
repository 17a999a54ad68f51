package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/source"
)

// errNotModified is a 304 to a conditional request: nothing changed since the stored ETag.
var errNotModified = errors.New("not modified")

// getJSON GETs path?query into v. With a stored ETag for key whose URL is the same, the request
// is conditional; a 304 returns errNotModified (and does not count against the rate limit).
// On success the response's ETag is remembered for the next run. An empty key makes a plain
// request.
func (c *collector) getJSON(ctx context.Context, key, path string, q url.Values, v any) (*gh.Response, error) {
	u := path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	tag, conditional := c.etags[key]
	conditional = conditional && key != "" && tag.URL == u && tag.ETag != ""
	resp, err := c.do(ctx, func() (*gh.Response, error) {
		req, err := c.s.client.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if conditional {
			req.Header.Set("If-None-Match", tag.ETag)
		}
		return c.s.client.Do(ctx, req, v)
	})
	if errors.Is(err, errNotModified) {
		return resp, err
	}
	if err != nil || key == "" {
		return resp, err
	}
	if et := resp.Header.Get("ETag"); et != "" {
		c.etags[key] = etag{URL: u, ETag: et}
	} else {
		delete(c.etags, key)
	}
	return resp, nil
}

// do runs one API call by GitHub's limit rules (docs/collect.md) and retry.GitHub:
//   - primary limit exhausted (403 or 429 with x-ratelimit-remaining: 0): a
//     *source.RateLimitedError with the reset time, no retry;
//   - secondary limit (403 with Retry-After, or 429 otherwise): one retry after its Retry-After
//     (a minute when it names none) when that is at most the policy's MaxWait; otherwise, or
//     when it comes again, a *source.RateLimitedError;
//   - 5xx or a transport error: one retry after the backoff;
//   - 304: errNotModified.
//
// Not retry.Transport: GitHub signals limits with 403 as well as 429 and puts the reset in
// x-ratelimit-reset, which go-github already parses into typed errors here.
func (c *collector) do(ctx context.Context, call func() (*gh.Response, error)) (*gh.Response, error) {
	var resp *gh.Response
	policy := retry.GitHub().WithSleep(c.s.opt.Sleep)
	policy.OnRetry = func(err error, wait time.Duration) {
		if isRateLimited(err) {
			c.log.Info("github secondary rate limit: waiting", "retry_after", wait)
		}
	}
	err := policy.Do(ctx, func(ctx context.Context) error {
		var err error
		resp, err = call()
		c.requests++
		if err == nil || ctx.Err() != nil {
			return err
		}
		return c.classify(err)
	})
	var tl *retry.TooLongError
	switch {
	case errors.As(err, &tl):
		return resp, tl.Err // the *source.RateLimitedError says until when
	case err != nil && ctx.Err() != nil:
		return resp, ctx.Err()
	}
	return resp, err
}

// classify marks what do may try again, and turns GitHub's limits into rate-limit errors.
func (c *collector) classify(err error) error {
	var (
		rle *gh.RateLimitError
		are *gh.AbuseRateLimitError
		er  *gh.ErrorResponse
	)
	status := 0
	var hdr http.Header
	if errors.As(err, &er) && er.Response != nil {
		status, hdr = er.Response.StatusCode, er.Response.Header
	}
	after, hasAfter := retry.FromHeader(hdr, c.now)
	switch {
	case status == http.StatusNotModified:
		c.notModified++
		return errNotModified
	case errors.As(err, &rle):
		return &source.RateLimitedError{Reset: rle.Rate.Reset.Time.UTC(), Err: errors.New("GitHub primary rate limit exhausted")}
	case status == http.StatusTooManyRequests && hdr.Get("X-Ratelimit-Remaining") == "0":
		reset := time.Time{}
		if sec, perr := strconv.ParseInt(hdr.Get("X-Ratelimit-Reset"), 10, 64); perr == nil {
			reset = time.Unix(sec, 0).UTC()
		}
		return &source.RateLimitedError{Reset: reset, Err: errors.New("GitHub primary rate limit exhausted")}
	case errors.As(err, &are), status == http.StatusTooManyRequests, status == http.StatusForbidden && hasAfter:
		// A secondary limit: GitHub asks for at least a minute when it names no wait.
		if !hasAfter {
			after = time.Minute
			if are != nil && are.RetryAfter != nil {
				after = max(*are.RetryAfter, 0)
			}
		}
		return retry.Retryable(&source.RateLimitedError{Reset: c.now.Add(after), Err: errors.New("GitHub secondary rate limit")}, after)
	case status >= 500 || (status == 0 && !isAPIError(err)):
		return retry.Retryable(err, 0)
	}
	return err
}

// isAPIError reports whether err is an answer of the API rather than a transport failure.
func isAPIError(err error) bool {
	var er *gh.ErrorResponse
	var ae *gh.AcceptedError
	return errors.As(err, &er) || errors.As(err, &ae)
}

// wrap adds the repository and step to an error, once.
func (c *collector) wrap(step string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("github %s/%s: %s: %w", c.owner, c.repo, step, err)
}

// isRateLimited reports whether err ends the product's collection for this run.
func isRateLimited(err error) bool {
	var rl *source.RateLimitedError
	return errors.As(err, &rl)
}

package github

import (
	"context"
	"errors"
	"fmt"
	"github.com/portfolio-report/portfolio/generator/retry"
	"net/http"
	"net/url"
	"strconv"
	"time"

	gh "github.com/google/go-github/v60/github"

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
	tag, conditional := c.st.ETags[key]
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
		c.st.ETags[key] = etag{URL: u, ETag: et}
	} else {
		delete(c.st.ETags, key)
	}
	return resp, nil
}

// do runs one API call with GitHub's limit rules (shared/specs/github.md "Rate limits"):
//   - primary limit exhausted (403 or 429 with x-ratelimit-remaining: 0): a
//     *source.RateLimitedError with the reset time, no retry;
//   - secondary limit (403 naming it, or 429 otherwise): wait Retry-After once when it is at
//     most MaxRetryAfter (ctx-aware), then retry; a second hit is a *source.RateLimitedError;
//   - 5xx or a transport error: one retry after Backoff;
//   - 304: errNotModified.
//
// Hand-written rather than source.Transport: GitHub signals limits with 403 as well as 429 and
// puts the reset in x-ratelimit-reset, which go-github already parses into typed errors here.
func (c *collector) do(ctx context.Context, call func() (*gh.Response, error)) (*gh.Response, error) {
	retried := false
	for {
		resp, err := call()
		c.requests++
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return resp, ctx.Err()
		}
		var (
			rle *gh.RateLimitError
			are *gh.AbuseRateLimitError
			er  *gh.ErrorResponse
		)
		status := 0
		if errors.As(err, &er) && er.Response != nil {
			status = er.Response.StatusCode
		}
		var wait *time.Duration
		switch {
		case status == http.StatusNotModified:
			c.notModified++
			return resp, errNotModified
		case errors.As(err, &rle):
			return resp, &source.RateLimitedError{Reset: rle.Rate.Reset.Time.UTC(), Err: errors.New("GitHub primary rate limit exhausted")}
		case status == http.StatusTooManyRequests && er.Response.Header.Get("X-Ratelimit-Remaining") == "0":
			reset := time.Time{}
			if sec, perr := strconv.ParseInt(er.Response.Header.Get("X-Ratelimit-Reset"), 10, 64); perr == nil {
				reset = time.Unix(sec, 0).UTC()
			}
			return resp, &source.RateLimitedError{Reset: reset, Err: errors.New("GitHub primary rate limit exhausted")}
		case errors.As(err, &are):
			wait = are.RetryAfter
		case status == http.StatusTooManyRequests || (status == http.StatusForbidden && er.Response.Header.Get("Retry-After") != ""):
			if sec, perr := strconv.Atoi(er.Response.Header.Get("Retry-After")); perr == nil {
				d := time.Duration(sec) * time.Second
				wait = &d
			}
		case status >= 500 || (status == 0 && !isAPIError(err)):
			if retried {
				return resp, err
			}
			retried = true
			if serr := retry.Sleep(ctx, c.s.opt.Backoff); serr != nil {
				return resp, serr
			}
			continue
		default:
			return resp, err
		}
		// A secondary limit.
		d := time.Minute
		if wait != nil {
			d = max(*wait, 0)
		}
		if retried || d > c.s.opt.MaxRetryAfter {
			return resp, &source.RateLimitedError{Reset: c.now.Add(d), Err: errors.New("GitHub secondary rate limit")}
		}
		retried = true
		c.log.Info("github secondary rate limit: waiting", "retry_after", d)
		if serr := retry.Sleep(ctx, d); serr != nil {
			return resp, serr
		}
	}
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

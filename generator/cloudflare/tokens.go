package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	cf "github.com/cloudflare/cloudflare-go"
)

// The calls `portfolio init` and `portfolio doctor` make (docs/getting-started.md): who the
// token is, and which zones it can see.

// Zone is a zone as GET /zones lists it (id, name, status, account).
type Zone = cf.Zone

// TokenStatus is what Cloudflare says of the token in use: id, status (active, disabled,
// expired), and the not-before and expiry times when the token has them.
type TokenStatus struct {
	cf.APITokenVerifyBody
	// AccountOwned says the token was verified under its account (an account-owned token),
	// not as a user's.
	AccountOwned bool
}

// codeInvalidToken is Cloudflare's error code for a token it does not know.
const codeInvalidToken = 1000

// VerifyToken asks Cloudflare whether the token works: GET /user/tokens/verify. A token owned
// by an account rather than a user is unknown there (code 1000) and is verified under its
// account instead (GET /accounts/{account}/tokens/verify), when accountID is given.
func (c *Client) VerifyToken(ctx context.Context, accountID string) (TokenStatus, error) {
	var st TokenStatus
	err := c.Get(ctx, "/user/tokens/verify", &st.APITokenVerifyBody)
	var ae *APIError
	if accountID == "" || !errors.As(err, &ae) || !ae.Has(codeInvalidToken) {
		return st, err
	}
	if aerr := c.Get(ctx, "/accounts/"+url.PathEscape(accountID)+"/tokens/verify", &st.APITokenVerifyBody); aerr != nil {
		var acc *APIError
		if errors.As(aerr, &acc) && acc.Status == http.StatusNotFound {
			return st, err // no such account: the user endpoint's answer says more
		}
		return st, aerr
	}
	st.AccountOwned = true
	return st, nil
}

// zonesPerPage is the largest page GET /zones allows.
const zonesPerPage = 50

// Zones lists every zone the token can read (GET /zones, every page), of one account when
// accountID is set. A token without the Zone Read permission sees none.
func (c *Client) Zones(ctx context.Context, accountID string) ([]Zone, error) {
	q := ""
	if accountID != "" {
		q = "account.id=" + url.QueryEscape(accountID)
	}
	return ListInto[Zone](ctx, c, "/zones", q, zonesPerPage)
}

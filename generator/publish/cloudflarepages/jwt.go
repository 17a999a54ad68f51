package cloudflarepages

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// claims are the parts of the upload JWT's payload that matter to an upload.
type claims struct {
	Exp      time.Time // zero when the token has no exp
	MaxFiles int       // max_file_count_allowed, DefaultMaxFiles when absent
}

// parseJWT reads the payload of the upload JWT (deploy-helpers jwt.ts). The signature is not
// checked: the token is Cloudflare's to verify; we only read the expiry and the file limit.
func parseJWT(token string) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("upload token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, errors.New("upload token: payload is not base64url")
	}
	var p struct {
		Exp      *float64 `json:"exp"`
		MaxFiles *int     `json:"max_file_count_allowed"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return claims{}, errors.New("upload token: payload is not JSON")
	}
	c := claims{MaxFiles: DefaultMaxFiles}
	if p.Exp != nil {
		c.Exp = time.Unix(int64(*p.Exp), 0)
	}
	if p.MaxFiles != nil && *p.MaxFiles > 0 {
		c.MaxFiles = *p.MaxFiles
	}
	return c, nil
}

// expired says whether the token is no longer good at now (wrangler: exp <= now).
func (c claims) expired(now time.Time) bool {
	return !c.Exp.IsZero() && !c.Exp.After(now)
}

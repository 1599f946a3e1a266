package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Publishing-access settings of a package, as `npm access set mfa=LEVEL`
// names them.
const (
	// MFANone lets tokens publish without two-factor authentication.
	MFANone = "none"
	// MFAAutomation requires two-factor authentication or a granular token
	// with bypass 2FA ("Require two-factor authentication or a granular access
	// token with bypass 2FA enabled"); the registry's default.
	MFAAutomation = "automation"
	// MFAPublish requires two-factor authentication and disallows tokens
	// ("Require two-factor authentication and disallow tokens"); trusted
	// publishing (OIDC) keeps working.
	MFAPublish = "publish"
)

// ValidMFA reports whether level is one of MFANone, MFAAutomation and MFAPublish.
func ValidMFA(level string) bool {
	return level == MFANone || level == MFAAutomation || level == MFAPublish
}

// mfaBody is the body the npm CLI (libnpmaccess setMfa) sends for a level.
func mfaBody(level string) (map[string]bool, error) {
	switch level {
	case MFANone:
		return map[string]bool{"publish_requires_tfa": false}, nil
	case MFAPublish:
		return map[string]bool{"publish_requires_tfa": true, "automation_token_overrides_tfa": false}, nil
	case MFAAutomation:
		return map[string]bool{"publish_requires_tfa": true, "automation_token_overrides_tfa": true}, nil
	}
	return nil, fmt.Errorf("unknown publishing access %q (want %q, %q or %q)", level, MFANone, MFAAutomation, MFAPublish)
}

// SetPublishAccess sets the package's publishing access
// (POST /-/package/<pkg>/access), as `npm access set mfa=LEVEL <pkg>` does.
// The registry requires two-factor authentication for it and refuses tokens
// that bypass 2FA. It offers no way to read the setting back.
func (c *Client) SetPublishAccess(ctx context.Context, name, level string) error {
	const op = "set publishing access"
	esc, err := escapeName(name)
	if err != nil {
		return &Error{Op: op, Package: name, Err: err}
	}
	b, err := mfaBody(level)
	if err != nil {
		return &Error{Op: op, Package: name, Err: err}
	}
	body, err := json.Marshal(b)
	if err != nil {
		return &Error{Op: op, Package: name, Err: err}
	}
	return c.do(ctx, call{op: op, pkg: name, method: http.MethodPost, path: "/-/package/" + esc + "/access", body: body, otp: true}, nil)
}

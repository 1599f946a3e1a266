package npmreg

import (
	"encoding/json"
	"net/http"
)

// publishAccessLocked serves POST /-/package/<pkg>/access, what `npm access set`
// sends: {"access": "public"|"restricted"} changes the visibility, and
// {"publish_requires_tfa": bool, "automation_token_overrides_tfa": bool}
// the publishing access (libnpmaccess setMfa). Only a maintainer may change
// them, with two-factor authentication and not with a token that bypasses
// it. As on the real registry, there is no way to read the publishing
// access back over HTTP; tests use PackageMFA.
func (r *Registry) publishAccessLocked(m string, rc reqCtx, name string, rest []string, body []byte) response {
	if m != http.MethodPost || len(rest) != 0 {
		return errResp(methodNotAllowed)
	}
	p, pr, e := r.writableLocked(rc, name)
	if e != nil {
		return errResp(e)
	}
	var in struct {
		Access              *string `json:"access"`
		PublishRequiresTFA  *bool   `json:"publish_requires_tfa"`
		AutomationOverrides *bool   `json:"automation_token_overrides_tfa"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errResp(errorf(400, "body must be a JSON object"))
	}
	mfa := ""
	switch {
	case in.PublishRequiresTFA == nil && in.AutomationOverrides != nil:
		return errResp(errorf(400, "automation_token_overrides_tfa needs publish_requires_tfa"))
	case in.PublishRequiresTFA == nil:
	case !*in.PublishRequiresTFA:
		mfa = MFANone
	case in.AutomationOverrides != nil && !*in.AutomationOverrides:
		mfa = MFAPublish
	default:
		mfa = MFAAutomation
	}
	if in.Access != nil && *in.Access != "public" && *in.Access != "restricted" {
		return errResp(errorf(400, "access must be \"public\" or \"restricted\", not %q", *in.Access))
	}
	if in.Access == nil && mfa == "" {
		return errResp(errorf(400, "nothing to change: give access or publish_requires_tfa"))
	}
	if e := r.check2FALocked(pr, rc, tfaManage); e != nil {
		return errResp(e)
	}
	if mfa != "" {
		p.mfa = mfa
	}
	if in.Access != nil {
		p.private = *in.Access == "restricted"
	}
	p.modified = r.now()
	return response{status: 204}
}

// PackageMFA returns a package's publishing access (MFANone, MFAAutomation
// or MFAPublish), and false when the package does not exist.
func (r *Registry) PackageMFA(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[name]
	if !ok {
		return "", false
	}
	return p.mfa, true
}

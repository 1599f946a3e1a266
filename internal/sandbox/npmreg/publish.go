package npmreg

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// publishBody is the document npm sends to PUT /<pkg>.
type publishBody struct {
	Name        string                    `json:"name"`
	DistTags    map[string]string         `json:"dist-tags"`
	Versions    map[string]map[string]any `json:"versions"`
	Access      string                    `json:"access"`
	Attachments map[string]attachment     `json:"_attachments"`
}

type attachment struct {
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
	Length      int    `json:"length"`
}

const (
	noticeExpired = "Access token expired or revoked. Please try logging in again."
	msgNeed2FA    = "Two-factor authentication or granular access token with bypass 2fa enabled is required to publish packages."
)

// publishLocked is the one publish path, used by PUT /<pkg> and PublishCanary.
func (r *Registry) publishLocked(name string, body *publishBody, rc reqCtx) *Error {
	if body.Name != name {
		return errorf(400, "package name in the body (%q) does not match the URL (%q)", body.Name, name)
	}
	if len(body.Versions) != 1 {
		return errorf(400, "publish exactly one version")
	}
	var version string
	var manifest map[string]any
	for v, m := range body.Versions {
		version, manifest = v, m
	}
	if manifest == nil {
		return errorf(400, "version %q has no manifest", version)
	}
	tgzAtt, ok := body.Attachments[name+"-"+version+".tgz"]
	if !ok {
		return errorf(400, "missing tarball attachment %q", name+"-"+version+".tgz")
	}
	tgz, err := base64.StdEncoding.DecodeString(tgzAtt.Data)
	if err != nil || len(tgz) == 0 {
		return errorf(400, "tarball attachment is not base64")
	}

	// Who is publishing. The registry hides most auth failures behind 404.
	notFound := &Error{Status: 404, Code: "E404", Message: "Not found", notice: noticeExpired}
	if rc.bearer == "" {
		return errorf(401, "You must be logged in to publish packages.")
	}
	pr, e := r.authLocked(rc)
	if e != nil {
		return notFound
	}
	p, exists := r.packages[name]
	var pub npmUser
	switch {
	case pr.grant != nil:
		if pr.grant.pkg != name || !exists {
			return notFound
		}
		pub = oidcUser(pr.grant.claims.provider(), pr.grant.cfgID)
	default:
		u := pr.user
		if exists {
			if !p.isMaintainer(u.Name) {
				if p.private {
					return &Error{Status: 404, Code: "E404", Message: "Not found"}
				}
				return errorf(403, "You do not have permission to publish %q. Are you logged in as the correct user?", name)
			}
		}
		if pr.tok.Readonly {
			return errorf(403, "You do not have permission to publish %q: the token is read-only.", name)
		}
		mfa := MFAAutomation
		if exists {
			mfa = p.mfa
		}
		switch {
		case mfa == MFAPublish && !pr.tok.Session:
			return errorf(403, "Publishing %q requires two-factor authentication and disallows tokens; use trusted publishing.", name)
		case mfa == MFANone, pr.tok.Bypass2FA && mfa == MFAAutomation:
		case !u.tfaEnabled():
		default:
			if rc.otp == "" {
				if u.WebAuth {
					return r.eotpLocked(u, rc)
				}
				return errorf(403, "%s", msgNeed2FA)
			}
			if !r.validOTPLocked(u, rc.otp, rc.ip) {
				return r.eotpLocked(u, rc)
			}
		}
		pub = npmUser{Name: u.Name, Email: u.Email}
	}
	if exists {
		if _, dup := p.versions[version]; dup {
			return errorf(403, "You cannot publish over the previously published versions: %s.", version)
		}
	}

	var prov *bundle
	for k, a := range body.Attachments {
		if !strings.HasSuffix(k, ".sigstore") {
			continue
		}
		data := []byte(a.Data)
		if !json.Valid(data) {
			if dec, err := base64.StdEncoding.DecodeString(a.Data); err == nil {
				data = dec
			}
		}
		b, msg := r.checkProvenance(data, name, version, tgz, manifest)
		if msg != "" {
			return errorf(422, "%s", msg)
		}
		prov = b
	}

	if !exists {
		private := strings.HasPrefix(name, "@") && body.Access != "public"
		p = &pkgState{
			name: name, maintainers: []string{pr.user.Name}, private: private, mfa: MFAAutomation,
			created: r.now(), modified: r.now(), distTags: map[string]string{}, versions: map[string]*versionState{},
		}
		r.packages[name] = p
	}
	npmVersion, _ := manifest["_npmVersion"].(string)
	if npmVersion == "" {
		npmVersion = "11.6.2"
	}
	clean := map[string]any{}
	for k, v := range manifest {
		switch k {
		case "_id", "_npmUser", "_npmVersion", "dist", "maintainers", "_attachments":
		default:
			clean[k] = v
		}
	}
	tags := map[string]string{}
	for t, v := range body.DistTags {
		if v == version {
			tags[t] = v
		}
	}
	if len(tags) == 0 {
		tags["latest"] = version
	}
	r.storeVersionLocked(p, clean, tgz, pub, npmVersion, prov, tags, r.now())
	return nil
}

// PublishPath is how a simulated release job authenticates its publish.
type PublishPath struct {
	// OIDC is true when the job may request an ID token (id-token: write) and
	// the npm CLI is new enough to try the exchange.
	OIDC bool
	// IDToken is the job's ID token from MintIDToken.
	IDToken string
	// Token is NODE_AUTH_TOKEN; "" when the job has none.
	Token string
	// Provenance asks for provenance explicitly (--provenance).
	Provenance bool
}

// PublishCanary publishes pkg@version under tag the way the npm CLI does in a
// release job, through the same code path as PUT /<pkg>: when OIDC is set it
// tries the token exchange and, if that fails, silently falls back to Token;
// with no credential it fails with ENEEDAUTH. Provenance is made when asked for,
// or automatically after a successful exchange from a public repository for a
// public package. The error is an *Error.
func (r *Registry) PublishCanary(pkgName, version, tag string, via PublishPath) error {
	if tag == "" {
		tag = "latest"
	}
	bearer := via.Token
	var claims *IDTokenClaims
	exchanged := false
	if via.IDToken != "" {
		if c, err := r.parseIDToken(via.IDToken); err == nil {
			claims = c
		}
	}
	r.mu.Lock()
	if via.OIDC && via.IDToken != "" {
		if tok, e := r.exchangeLocked(pkgName, via.IDToken, r.opts.Host); e == nil {
			bearer, exchanged = tok, true
		}
	}
	public := false
	if p, ok := r.packages[pkgName]; ok {
		public = !p.private
	}
	r.mu.Unlock()

	// npm signs provenance by itself only on GitHub Actions here (GitLab
	// also needs SIGSTORE_ID_TOKEN, which a PublishPath does not carry),
	// and never on CircleCI.
	provenance := via.Provenance ||
		(exchanged && claims != nil && claims.provider() == ProviderGitHub && claims.RepositoryVisibility == "public" && public)
	if provenance && (claims == nil || !via.OIDC) {
		return &Error{Code: "EUSAGE", Message: "Automatic provenance generation not supported for provider: null"}
	}
	if provenance && claims.provider() != ProviderGitHub {
		name := map[string]string{ProviderGitLab: "GitLab", ProviderCircleCI: "CircleCI"}[claims.provider()]
		return &Error{Code: "EUSAGE", Message: "Automatic provenance generation not supported for provider: " + name}
	}
	if bearer == "" {
		return &Error{Code: "ENEEDAUTH", Message: "This command requires you to be logged in. You need to authorize this machine using `npm adduser`"}
	}

	manifest := map[string]any{"name": pkgName, "version": version, "_npmVersion": "11.6.2"}
	if claims != nil {
		manifest["repository"] = map[string]any{"type": "git", "url": claims.repositoryURL()}
	}
	tgz := makeTarball(pkgName, version)
	body := &publishBody{
		Name:     pkgName,
		DistTags: map[string]string{tag: version},
		Versions: map[string]map[string]any{version: manifest},
		Access:   "public",
		Attachments: map[string]attachment{
			pkgName + "-" + version + ".tgz": {ContentType: "application/octet-stream", Data: base64.StdEncoding.EncodeToString(tgz), Length: len(tgz)},
		},
	}
	if provenance {
		name, data, err := r.ProvenanceAttachment(via.IDToken, pkgName, version, tgz)
		if err != nil {
			return &Error{Code: "EUSAGE", Message: "could not make provenance: " + err.Error()}
		}
		body.Attachments[name] = attachment{ContentType: bundleMediaType, Data: string(data), Length: len(data)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.publishLocked(pkgName, body, reqCtx{bearer: bearer}); e != nil {
		return e
	}
	return nil
}

// Tarball returns the deterministic tarball the emulator builds for pkg@version,
// for tests that publish over HTTP.
func Tarball(pkgName, version string) []byte { return makeTarball(pkgName, version) }

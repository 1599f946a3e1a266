package npmreg

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// bundle is the part of a Sigstore bundle the registry and verifiers read.
type bundle struct {
	MediaType            string         `json:"mediaType"`
	VerificationMaterial map[string]any `json:"verificationMaterial"`
	DSSEEnvelope         dsseEnvelope   `json:"dsseEnvelope"`
}

type dsseEnvelope struct {
	Payload     string          `json:"payload"`
	PayloadType string          `json:"payloadType"`
	Signatures  []dsseSignature `json:"signatures"`
}

type dsseSignature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

const bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// statement is an in-toto v1 statement.
type statement struct {
	Type          string          `json:"_type"`
	Subject       []subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type slsaPredicate struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Workflow struct {
				Ref        string `json:"ref"`
				Repository string `json:"repository"`
				Path       string `json:"path"`
			} `json:"workflow"`
		} `json:"externalParameters"`
		InternalParameters   map[string]any   `json:"internalParameters"`
		ResolvedDependencies []map[string]any `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata map[string]any `json:"metadata"`
	} `json:"runDetails"`
}

// dssePAE is the DSSE pre-authentication encoding that signatures cover.
func dssePAE(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}

func (r *Registry) signDSSE(payloadType string, payload []byte, keyID string) bundle {
	mac := hmac.New(sha256.New, r.signKey)
	mac.Write([]byte(keyID))
	mac.Write(dssePAE(payloadType, payload))
	return bundle{
		MediaType: bundleMediaType,
		VerificationMaterial: map[string]any{
			"certificate": map[string]string{"rawBytes": base64.StdEncoding.EncodeToString([]byte("sandbox certificate " + keyID))},
		},
		DSSEEnvelope: dsseEnvelope{
			Payload:     base64.StdEncoding.EncodeToString(payload),
			PayloadType: payloadType,
			Signatures:  []dsseSignature{{KeyID: keyID, Sig: base64.StdEncoding.EncodeToString(mac.Sum(nil))}},
		},
	}
}

func (r *Registry) verifyDSSE(b bundle) ([]byte, error) {
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		return nil, errors.New("payload is not base64")
	}
	if len(b.DSSEEnvelope.Signatures) == 0 {
		return nil, errors.New("envelope has no signature")
	}
	s := b.DSSEEnvelope.Signatures[0]
	got, err := base64.StdEncoding.DecodeString(s.Sig)
	if err != nil {
		return nil, errors.New("signature is not base64")
	}
	mac := hmac.New(sha256.New, r.signKey)
	mac.Write([]byte(s.KeyID))
	mac.Write(dssePAE(b.DSSEEnvelope.PayloadType, payload))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, errors.New("signature does not verify")
	}
	return payload, nil
}

// provenanceBundle makes the signed SLSA v1 statement npm publishes for a
// GitHub Actions build of pkg@version with the given tarball.
func (r *Registry) provenanceBundle(pkgName, version string, tgz []byte, wf Workflow, sha string) bundle {
	sum := sha512Hex(tgz)
	if sha == "" {
		h := sha256.Sum256([]byte(wf.Repository + "@" + wf.ref()))
		sha = fmt.Sprintf("%x", h[:20])
	}
	var pred slsaPredicate
	pred.BuildDefinition.BuildType = GitHubBuildType
	pred.BuildDefinition.ExternalParameters.Workflow.Ref = wf.ref()
	pred.BuildDefinition.ExternalParameters.Workflow.Repository = "https://github.com/" + wf.Repository
	pred.BuildDefinition.ExternalParameters.Workflow.Path = wf.Path
	pred.BuildDefinition.InternalParameters = map[string]any{"github": map[string]any{"event_name": "push", "runner_environment": "github-hosted"}}
	pred.BuildDefinition.ResolvedDependencies = []map[string]any{{
		"uri":    "git+https://github.com/" + wf.Repository + "@" + wf.ref(),
		"digest": map[string]string{"gitCommit": sha},
	}}
	pred.RunDetails.Builder.ID = GitHubHostedBuilder
	pred.RunDetails.Metadata = map[string]any{"invocationId": "https://github.com/" + wf.Repository + "/actions/runs/1/attempts/1"}
	predJSON, _ := json.Marshal(pred)
	st := statement{
		Type:          "https://in-toto.io/Statement/v1",
		Subject:       []subject{{Name: purl(pkgName, version), Digest: map[string]string{"sha512": sum}}},
		PredicateType: SLSAProvenanceV1,
		Predicate:     predJSON,
	}
	payload, _ := json.Marshal(st)
	return r.signDSSE(InTotoPayloadType, payload, "")
}

func (r *Registry) publishAttestation(pkgName, version, sum string) bundle {
	pred, _ := json.Marshal(map[string]string{"name": pkgName, "version": version, "registry": "sandbox"})
	st := statement{
		Type:          "https://in-toto.io/Statement/v1",
		Subject:       []subject{{Name: purl(pkgName, version), Digest: map[string]string{"sha512": sum}}},
		PredicateType: PublishAttestationV01,
		Predicate:     pred,
	}
	payload, _ := json.Marshal(st)
	return r.signDSSE(InTotoPayloadType, payload, "SHA256:sandbox-registry")
}

// ProvenanceAttachment returns the ".sigstore" publish attachment (name and
// JSON data) that the npm CLI would send for pkg@version built from tarball by
// the workflow that the ID token names. It stands in for Sigstore signing.
func (r *Registry) ProvenanceAttachment(idToken, pkgName, version string, tarball []byte) (name string, data []byte, err error) {
	c, err := r.parseIDToken(idToken)
	if err != nil {
		return "", nil, err
	}
	wf, err := c.workflow()
	if err != nil {
		return "", nil, err
	}
	b := r.provenanceBundle(pkgName, version, tarball, wf, c.SHA)
	data, err = json.Marshal(b)
	return pkgName + "-" + version + ".sigstore", data, err
}

// checkProvenance verifies a published bundle against the package, version,
// tarball and manifest the way the registry does, with npm's E422 messages.
// A failure is reported as the message the registry answers with.
func (r *Registry) checkProvenance(data []byte, pkgName, version string, tgz []byte, manifest map[string]any) (*bundle, string) {
	fail := func(format string, a ...any) string {
		return "Error verifying sigstore provenance bundle: " + fmt.Sprintf(format, a...)
	}
	var b bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fail("bundle is not JSON")
	}
	payload, err := r.verifyDSSE(b)
	if err != nil {
		return nil, fail("%s", err.Error())
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil || st.PredicateType != SLSAProvenanceV1 {
		return nil, fail("unsupported statement")
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != purl(pkgName, version) || st.Subject[0].Digest["sha512"] != sha512Hex(tgz) {
		return nil, fail("Failed to validate subject: provenance does not name %s", purl(pkgName, version))
	}
	var pred slsaPredicate
	if err := json.Unmarshal(st.Predicate, &pred); err != nil {
		return nil, fail("predicate is not SLSA v1")
	}
	want := pred.BuildDefinition.ExternalParameters.Workflow.Repository
	if got, ok := manifestRepoURL(manifest); ok && got != want {
		return nil, fail("Failed to validate repository information: package.json: \"repository.url\" is %q, expected to match %q from provenance", got, want)
	}
	return &b, ""
}

func manifestRepoURL(m map[string]any) (string, bool) {
	var raw string
	switch v := m["repository"].(type) {
	case string:
		raw = v
	case map[string]any:
		raw, _ = v["url"].(string)
	}
	if raw == "" {
		return "", false
	}
	u := strings.TrimPrefix(raw, "git+")
	u = strings.TrimSuffix(u, ".git")
	if rest, ok := strings.CutPrefix(u, "github:"); ok {
		u = "https://github.com/" + rest
	}
	return u, true
}

package npm_test

import (
	"encoding/base64"
	"testing"

	"github.com/cutover/cutover/internal/npm"
)

func fuzzSeeds(f *testing.F) (packument []byte, payloads [][]byte) {
	f.Helper()
	w := newWorld(f)
	v := seedHistory(f, w, "@acme/widget", 4)
	raw, err := w.reg.Packument("@acme/widget", "http://sandbox.invalid")
	must(f, err)
	atts, err := w.client(aliceToken, nil).Attestations(f.Context(), "@acme/widget", v)
	must(f, err)
	for _, a := range atts {
		p, err := base64.StdEncoding.DecodeString(a.Bundle.DSSEEnvelope.Payload)
		must(f, err)
		payloads = append(payloads, p)
	}
	return raw, payloads
}

// FuzzParsePackument feeds arbitrary documents through parsing and every check.
func FuzzParsePackument(f *testing.F) {
	raw, _ := fuzzSeeds(f)
	f.Add(raw, "2.0.0-canary.1", "canary")
	f.Add([]byte(`{"name":"x","versions":{"1.0.0":{"_npmUser":"a <b>","dist":{"integrity":"sha512-AAAA"}}},"time":{"1.0.0":"nope"},"dist-tags":{"latest":"1.0.0-0"}}`), "1.0.0", "latest")
	f.Add([]byte(`{"name":"x","versions":{"1.0.0":null,"2":{"dist":{"attestations":{"provenance":{}}}}},"maintainers":[7]}`), "2", "")
	f.Add([]byte(`null`), "", "")
	f.Fuzz(func(t *testing.T, data []byte, version, tag string) {
		p, err := npm.ParsePackument(data)
		if err != nil {
			return
		}
		exp := npm.Expectation{Package: p.Name, Version: version, DistTag: tag, Repository: "acme/widget", Workflow: "release.yml", PublicRepo: true}
		res := npm.Verify(p, nil, exp)
		if len(res.Checks) != 7 {
			t.Fatalf("%d checks", len(res.Checks))
		}
		for v, doc := range p.Versions {
			_ = npm.EvidenceOf(doc)
			_, _ = p.PublishedAt(v)
			_ = doc.RepositoryURL()
		}
	})
}

// FuzzParseStatement feeds arbitrary in-toto statements through parsing and
// the provenance checks.
func FuzzParseStatement(f *testing.F) {
	raw, payloads := fuzzSeeds(f)
	for _, p := range payloads {
		f.Add(p)
	}
	f.Add([]byte(`{"predicateType":"https://slsa.dev/provenance/v1","predicate":[],"subject":[{"name":"pkg:npm/%40acme/widget@2.0.0-canary.1"}]}`))
	f.Add([]byte(`{"predicateType":"https://slsa.dev/provenance/v1","predicate":{},"subject":[{"name":"pkg:npm/%40acme/widget@2.0.0-canary.1","digest":null}]}`))
	p, err := npm.ParsePackument(raw)
	must(f, err)
	exp := npm.Expectation{Package: "@acme/widget", Version: "2.0.0-canary.1", DistTag: "canary", Repository: "acme/widget", Workflow: "release.yml", PublicRepo: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := npm.ParseStatement(data)
		if err != nil {
			return
		}
		res := npm.Verify(p, []npm.Statement{*st}, exp)
		if len(res.Checks) != 7 {
			t.Fatalf("%d checks", len(res.Checks))
		}
		att := npm.Attestation{PredicateType: st.PredicateType}
		att.Bundle.DSSEEnvelope.Payload = base64.StdEncoding.EncodeToString(data)
		if _, err := att.Statement(); err != nil {
			t.Fatalf("re-encoded statement does not parse: %v", err)
		}
	})
}

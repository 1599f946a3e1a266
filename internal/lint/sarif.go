package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// SARIFSchema is the JSON schema URI the SARIF output names.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// The SARIF 2.1.0 objects cutover writes (OASIS SARIF 2.1.0, the subset
// GitHub code scanning reads:
// https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool              sarifTool               `json:"tool"`
		Results           []sarifResult           `json:"results"`
		AutomationDetails *sarifAutomationDetails `json:"automationDetails,omitempty"`
		ColumnKind        string                  `json:"columnKind"`
	}
	sarifAutomationDetails struct {
		ID string `json:"id"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name            string      `json:"name"`
		SemanticVersion string      `json:"semanticVersion,omitempty"`
		InformationURI  string      `json:"informationUri"`
		Rules           []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifText          `json:"shortDescription"`
		FullDescription      sarifText          `json:"fullDescription"`
		Help                 sarifMultiformat   `json:"help"`
		HelpURI              string             `json:"helpUri"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
		Properties           sarifRuleProps     `json:"properties"`
	}
	sarifRuleProps struct {
		Tags             []string `json:"tags"`
		Precision        string   `json:"precision"`
		SecuritySeverity string   `json:"security-severity"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifMultiformat struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtLoc  `json:"artifactLocation"`
		Region           *sarifRegion `json:"region,omitempty"`
	}
	sarifArtLoc struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
)

// SARIF renders results as a SARIF 2.1.0 log with one run whose driver
// lists every rule (with help text and links) and whose results point at
// files relative to the checkout root (uriBaseId %SRCROOT%): give it results
// whose File is repository-relative. Suppressed results carry SARIF
// suppressions (kind inSource or external, status accepted, the reason as
// justification). version is cutover's version, written when it is a
// semantic version.
func SARIF(results []Result, version string) ([]byte, error) {
	driver := sarifDriver{Name: "cutover", InformationURI: "https://github.com/cutover/cutover"}
	if v := strings.TrimPrefix(version, "v"); v != "" && v[0] >= '0' && v[0] <= '9' {
		driver.SemanticVersion = v
	}
	index := map[string]int{}
	for i, r := range rules {
		index[r.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID: r.ID, Name: r.Name,
			ShortDescription:     sarifText{Text: r.Short},
			FullDescription:      sarifText{Text: r.Short + "."},
			Help:                 sarifMultiformat{Text: plain(r.Help), Markdown: r.Help},
			HelpURI:              r.HelpURI,
			DefaultConfiguration: sarifConfiguration{Level: r.Level},
			Properties:           sarifRuleProps{Tags: []string{"security", "supply-chain", "npm"}, Precision: "high", SecuritySeverity: r.SecuritySeverity},
		})
	}
	run := sarifRun{
		Tool:              sarifTool{Driver: driver},
		Results:           []sarifResult{},
		AutomationDetails: &sarifAutomationDetails{ID: "cutover-lint/"},
		ColumnKind:        "unicodeCodePoints",
	}
	for _, r := range results {
		i, ok := index[r.Rule]
		if !ok {
			return nil, fmt.Errorf("result for unknown rule %q", r.Rule)
		}
		loc := sarifPhysical{ArtifactLocation: sarifArtLoc{URI: fileURI(r.File), URIBaseID: "%SRCROOT%"}}
		if strings.HasPrefix(r.File, "/") {
			// Outside the working directory: an absolute file URI.
			loc.ArtifactLocation = sarifArtLoc{URI: "file://" + fileURI(r.File)}
		}
		if r.Line > 0 {
			loc.Region = &sarifRegion{StartLine: r.Line}
		}
		sum := sha256.Sum256([]byte(r.Rule + "\x00" + r.File + "\x00" + r.Message))
		sr := sarifResult{
			RuleID: r.Rule, RuleIndex: i, Level: r.Level,
			Message:             sarifText{Text: r.Message},
			Locations:           []sarifLocation{{PhysicalLocation: loc}},
			PartialFingerprints: map[string]string{"cutoverResult/v1": hex.EncodeToString(sum[:16])},
		}
		if r.Suppression != nil {
			sr.Suppressions = []sarifSuppression{{Kind: r.Suppression.Kind, Status: "accepted", Justification: r.Suppression.Justification}}
		}
		run.Results = append(run.Results, sr)
	}
	b, err := json.MarshalIndent(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// fileURI escapes a slash-separated relative path as a URI reference.
func fileURI(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// plain drops Markdown backticks for the help's text form.
func plain(md string) string {
	return strings.ReplaceAll(md, "`", "")
}

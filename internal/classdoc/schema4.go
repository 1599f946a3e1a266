package classdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cutover/cutover/rewrite"
)

// The types below are the JSON that ledgers of schema versions 1 to 4
// stored in repos.classification: rewrite.Result as it was marshalled
// then, reduced to the fields the document keeps. They are frozen copies,
// not rewrite's types, so that a ledger of schema 4 still converts after
// rewrite.Result changes. (proxy_scopes appeared late in schema 4.) Never
// edit their JSON names.
type (
	v4Result struct {
		Publishes     *bool         `json:"publishes"`
		Credential    string        `json:"credential"`
		Pipelines     []v4Pipeline  `json:"pipelines"`
		Packages      []v4Package   `json:"packages"`
		WorkspaceKind string        `json:"workspace_kind"`
		Trust         []v4TrustNeed `json:"trust"`
		Findings      []v4Finding   `json:"findings"`
	}
	v4Pipeline struct {
		Workflow    string   `json:"workflow"`
		Job         string   `json:"job"`
		JobLine     int      `json:"job_line"`
		Environment string   `json:"environment"`
		Tools       []string `json:"tools"`
		Feeds       []v4Feed `json:"feeds"`
		Credential  string   `json:"credential"`
		SelfHosted  bool     `json:"self_hosted"`
		Provider    string   `json:"provider"`
		Confidence  string   `json:"confidence"`
		Proxy       string   `json:"proxy"`
		ProxyScopes []string `json:"proxy_scopes"`
	}
	v4Feed struct {
		Kind    string `json:"kind"`
		Name    string `json:"name"`
		Secret  string `json:"secret"`
		File    string `json:"file"`
		Line    int    `json:"line"`
		Guarded bool   `json:"guarded"`
	}
	v4Package struct {
		Name        string `json:"name"`
		Dir         string `json:"dir"`
		Private     bool   `json:"private"`
		Access      string `json:"access"`
		Publishable bool   `json:"publishable"`
	}
	v4TrustNeed struct {
		Package     string      `json:"package"`
		Repository  string      `json:"repository"`
		Workflow    string      `json:"workflow"`
		Environment string      `json:"environment"`
		Provider    string      `json:"provider"`
		CircleCI    *v4CircleCI `json:"circleci"`
		Needed      []string    `json:"needed"`
	}
	v4CircleCI struct {
		OrgID                string   `json:"org_id"`
		ProjectID            string   `json:"project_id"`
		PipelineDefinitionID string   `json:"pipeline_definition_id"`
		VCSOrigin            string   `json:"vcs_origin"`
		ContextIDs           []string `json:"context_ids"`
	}
	v4Finding struct {
		Severity string `json:"severity"`
		Code     string `json:"code"`
		File     string `json:"file"`
		Line     int    `json:"line"`
		Message  string `json:"message"`
	}
)

// FromSchema4 converts a classification stored by a ledger of schema 4 or
// older (rewrite.Result's JSON of that time) into a document. A stored
// document (it has a version) is returned as [Decode] reads it, so the
// conversion can run twice.
func FromSchema4(data []byte) (*Doc, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if d, err := Decode(trimmed); err == nil || !errors.Is(err, ErrNotDocument) {
		return d, err
	}
	var r v4Result
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return nil, err
	}
	if r.Publishes == nil || r.Credential == "" {
		return nil, errors.New(`no "publishes" or "credential": not a detection result`)
	}
	d := &Doc{
		Version:       Version,
		Publishes:     *r.Publishes,
		Credential:    rewrite.Credential(r.Credential),
		WorkspaceKind: r.WorkspaceKind,
		Pipelines:     make([]Pipeline, 0, len(r.Pipelines)),
		Packages:      make([]Package, 0, len(r.Packages)),
		Trust:         make([]TrustNeed, 0, len(r.Trust)),
		Findings:      make([]Finding, 0, len(r.Findings)),
	}
	for i, p := range r.Pipelines {
		if p.Workflow == "" || p.Job == "" {
			return nil, fmt.Errorf("pipeline %d has no workflow or job", i)
		}
		pl := Pipeline{
			File: p.Workflow, Job: p.Job, Line: p.JobLine, Provider: p.Provider,
			Tools: nonNil(p.Tools), Credential: rewrite.Credential(p.Credential), Environment: p.Environment,
			SelfHosted: p.SelfHosted, Confidence: p.Confidence, Proxy: p.Proxy, ProxyScopes: p.ProxyScopes,
			TokenFeeds: make([]TokenFeed, 0, len(p.Feeds)),
		}
		for _, f := range p.Feeds {
			// Field by field, not a conversion: the frozen schema 4 shape
			// must not follow the document's struct when that changes.
			//lint:ignore S1016 the frozen reader copies field by field on purpose
			pl.TokenFeeds = append(pl.TokenFeeds, TokenFeed{Kind: f.Kind, Name: f.Name, Secret: f.Secret,
				File: f.File, Line: f.Line, Guarded: f.Guarded})
		}
		d.Pipelines = append(d.Pipelines, pl)
	}
	for _, p := range r.Packages {
		//lint:ignore S1016 the frozen reader copies field by field on purpose
		d.Packages = append(d.Packages, Package{Name: p.Name, Dir: p.Dir, Private: p.Private,
			Access: p.Access, Publishable: p.Publishable})
	}
	for _, t := range r.Trust {
		n := TrustNeed{Package: t.Package, Repository: t.Repository, Workflow: t.Workflow,
			Environment: t.Environment, Provider: t.Provider, Needed: t.Needed}
		if c := t.CircleCI; c != nil {
			n.CircleCI = &CircleCI{OrgID: c.OrgID, ProjectID: c.ProjectID,
				PipelineDefinitionID: c.PipelineDefinitionID, VCSOrigin: c.VCSOrigin, ContextIDs: c.ContextIDs}
		}
		d.Trust = append(d.Trust, n)
	}
	for _, f := range r.Findings {
		d.Findings = append(d.Findings, Finding{Severity: rewrite.Severity(f.Severity), Code: f.Code,
			File: f.File, Line: f.Line, Message: f.Message})
	}
	return d, nil
}

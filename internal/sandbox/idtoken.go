package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

// idTokenPath is the ID-token issuer of simulated runners, on the API's
// port: ACTIONS_ID_TOKEN_REQUEST_URL points at it.
const idTokenPath = sandboxPrefix + "actions/id-token"

// IDTokenRequestTTL is how long the request token of a simulated job is
// good for, the length of a long job.
const IDTokenRequestTTL = time.Hour

// idRequest is the job an ACTIONS_ID_TOKEN_REQUEST_TOKEN speaks for.
type idRequest struct {
	claims  npmreg.IDTokenClaims
	expires time.Time
}

// IDTokenRequest registers a simulated job whose ID tokens carry claims and
// returns what a GitHub runner gives a job with id-token: write: the
// ACTIONS_ID_TOKEN_REQUEST_URL (to which clients append "&audience=...")
// and the ACTIONS_ID_TOKEN_REQUEST_TOKEN to send as a bearer token. The
// claims' Audience is ignored: each request names its own.
func (w *World) IDTokenRequest(claims npmreg.IDTokenClaims) (requestURL, requestToken string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	requestToken = "sandbox-id-request-" + hex.EncodeToString(b)
	claims.Audience = ""
	w.idMu.Lock()
	if w.idReqs == nil {
		w.idReqs = map[string]idRequest{}
	}
	now := w.now()
	for k, r := range w.idReqs {
		if !now.Before(r.expires) {
			delete(w.idReqs, k)
		}
	}
	w.idReqs[requestToken] = idRequest{claims: claims, expires: now.Add(IDTokenRequestTTL)}
	w.idMu.Unlock()
	return w.URL + strings.TrimPrefix(idTokenPath, "/") + "?api-version=2.0", requestToken
}

// serveIDToken serves GET /_sandbox/actions/id-token?api-version=2.0&audience=AUD
// as the runner's token service does: the bearer must be a live request
// token; the answer is {"value": JWT} with aud set to the audience asked
// for, or to GitHub's default, the owner's URL, when none is.
func (w *World) serveIDToken(rw http.ResponseWriter, r *http.Request) {
	tok := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		tok = strings.TrimSpace(h[7:])
	}
	w.idMu.Lock()
	req, ok := w.idReqs[tok]
	w.idMu.Unlock()
	if tok == "" || !ok || !w.now().Before(req.expires) {
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"message": "the ID token request token is missing, unknown or expired"})
		return
	}
	c := req.claims
	c.Audience = r.URL.Query().Get("audience")
	if c.Audience == "" {
		owner, _, _ := strings.Cut(c.Repository, "/")
		c.Audience = "https://github.com/" + owner
	}
	jwt, err := w.NPM.MintIDToken(c)
	if err != nil {
		writeJSON(rw, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, map[string]string{"value": jwt})
}

// IDTokenRequestOptions name the job of POST
// /_sandbox/repos/{owner}/{repo}/id-token-request.
type IDTokenRequestOptions struct {
	// Workflow is the workflow file (".github/workflows/release.yml" or
	// "release.yml"); empty means "release.yml".
	Workflow string `json:"workflow,omitempty"`
	// Ref is the git ref of the run; empty means "refs/heads/main".
	Ref string `json:"ref,omitempty"`
	// Environment is the job's deployment environment, if any.
	Environment string `json:"environment,omitempty"`
}

// serveIDTokenRequest serves POST /_sandbox/repos/{owner}/{repo}/id-token-request
// (GitHub token with push access): the two environment variables a job of
// the repository with id-token: write gets, to run npm publish by hand.
func (w *World) serveIDTokenRequest(rw http.ResponseWriter, r *http.Request) {
	if !w.sandboxCaller(rw, r) {
		return
	}
	var o IDTokenRequestOptions
	if body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20)); len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &o); err != nil {
			writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON: " + err.Error()})
			return
		}
	}
	wf := o.Workflow
	if wf == "" {
		wf = "release.yml"
	}
	if !strings.Contains(wf, "/") {
		wf = ".github/workflows/" + wf
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	c := npmreg.GitHubClaims(repo, path.Clean(wf), o.Ref, o.Environment)
	w.mu.Lock()
	if w.private[repo] {
		c.RepositoryVisibility = "private"
	}
	w.mu.Unlock()
	u, tok := w.IDTokenRequest(c)
	writeJSON(rw, http.StatusOK, map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": u, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": tok})
}

// CircleCIOIDCOptions are the body of POST
// /_sandbox/repos/{owner}/{repo}/circleci-oidc.
type CircleCIOIDCOptions struct {
	// Audience is the aud claim the job asks for (`circleci run oidc get
	// --claims '{"aud":...}'`); empty means "npm:" + the registry's host name.
	Audience string `json:"aud,omitempty"`
}

// serveCircleCIOIDC serves POST /_sandbox/repos/{owner}/{repo}/circleci-oidc
// (GitHub token with push access): what `circleci run oidc get` prints in a
// job of the repository's CircleCI project, {"token": JWT} with the
// project's IDs and the contexts of its publish job, for NPM_ID_TOKEN.
func (w *World) serveCircleCIOIDC(rw http.ResponseWriter, r *http.Request) {
	if !w.sandboxCaller(rw, r) {
		return
	}
	var o CircleCIOIDCOptions
	if body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20)); len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &o); err != nil {
			writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON: " + err.Error()})
			return
		}
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	ids, ok := w.CircleCIProject(repo)
	if !ok {
		writeJSON(rw, http.StatusNotFound, map[string]string{"message": "the repository is not a project of the sandbox's CircleCI"})
		return
	}
	var contexts []string
	if files, _, _, err := w.headFiles(r.PathValue("owner"), r.PathValue("repo"), ""); err == nil {
		det := rewrite.Detect(rewrite.Snapshot{Repo: repo, Files: files}, rewrite.Options{Registry: w.RegistryURL})
		for _, pl := range det.Pipelines {
			if pl.Provider == rewrite.ProviderCircleCI {
				contexts = append(contexts, pl.Contexts...)
			}
		}
	}
	_, contextIDs := w.circleJobEnv(repo, contexts)
	c := npmreg.CircleCIClaims(ids.OrgID, ids.ProjectID, ids.PipelineDefinitionID, ids.VCSOrigin, contextIDs)
	c.Audience = o.Audience
	jwt, err := w.NPM.MintIDToken(c)
	if err != nil {
		writeJSON(rw, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, map[string]string{"token": jwt})
}

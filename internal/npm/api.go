package npm

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Packument fetches the full package document (GET /<pkg>).
func (c *Client) Packument(ctx context.Context, name string) (*Packument, error) {
	const op = "get packument"
	esc, err := escapeName(name)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	var raw json.RawMessage
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodGet, path: "/" + esc}, &raw); err != nil {
		return nil, err
	}
	p, err := ParsePackument(raw)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Status: http.StatusOK, Err: err}
	}
	return p, nil
}

// Version fetches one version document (GET /<pkg>/<version>); version may
// also be a dist-tag.
func (c *Client) Version(ctx context.Context, name, version string) (*VersionDoc, error) {
	const op = "get version"
	esc, err := escapeNameSegment(name, "/", "version", version)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	var doc VersionDoc
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodGet, path: "/" + esc}, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// DistTags returns the package's dist-tags (GET /-/package/<pkg>/dist-tags).
func (c *Client) DistTags(ctx context.Context, name string) (map[string]string, error) {
	const op = "get dist-tags"
	esc, err := escapeName(name)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	tags := map[string]string{}
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodGet, path: "/-/package/" + esc + "/dist-tags"}, &tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// SetDistTag points tag at version (PUT /-/package/<pkg>/dist-tags/<tag>).
func (c *Client) SetDistTag(ctx context.Context, name, tag, version string) error {
	const op = "set dist-tag"
	esc, err := escapeNameSegment(name, "/dist-tags/", "dist-tag", tag)
	if err != nil {
		return &Error{Op: op, Package: name, Err: err}
	}
	body, _ := json.Marshal(version)
	return c.do(ctx, call{op: op, pkg: name, method: http.MethodPut, path: "/-/package/" + esc, body: body, otp: true}, nil)
}

// DeleteDistTag removes a dist-tag (DELETE /-/package/<pkg>/dist-tags/<tag>).
func (c *Client) DeleteDistTag(ctx context.Context, name, tag string) error {
	const op = "delete dist-tag"
	esc, err := escapeNameSegment(name, "/dist-tags/", "dist-tag", tag)
	if err != nil {
		return &Error{Op: op, Package: name, Err: err}
	}
	return c.do(ctx, call{op: op, pkg: name, method: http.MethodDelete, path: "/-/package/" + esc, otp: true}, nil)
}

// Visibility reports whether the package is public (GET /-/package/<pkg>/visibility).
func (c *Client) Visibility(ctx context.Context, name string) (public bool, err error) {
	const op = "get visibility"
	esc, err := escapeName(name)
	if err != nil {
		return false, &Error{Op: op, Package: name, Err: err}
	}
	var v struct {
		Public bool `json:"public"`
	}
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodGet, path: "/-/package/" + esc + "/visibility"}, &v); err != nil {
		return false, err
	}
	return v.Public, nil
}

// TrustList returns the package's trusted-publisher configs (at most one).
// The registry requires two-factor authentication for it.
func (c *Client) TrustList(ctx context.Context, name string) ([]TrustConfig, error) {
	const op = "list trust configs"
	esc, err := escapeName(name)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	var out []TrustConfig
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodGet, path: "/-/package/" + esc + "/trust", otp: true}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// TrustCreate creates the package's trusted-publisher config and returns it
// with its id. When one exists the error wraps ErrConflict.
func (c *Client) TrustCreate(ctx context.Context, name string, cfg TrustConfig) ([]TrustConfig, error) {
	const op = "create trust config"
	esc, err := escapeName(name)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	cfg.ID = ""
	body, err := json.Marshal([]TrustConfig{cfg})
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	var out []TrustConfig
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodPost, path: "/-/package/" + esc + "/trust", body: body, otp: true}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// TrustDelete deletes the package's trusted-publisher config with the id.
func (c *Client) TrustDelete(ctx context.Context, name, id string) error {
	const op = "delete trust config"
	esc, err := escapeNameSegment(name, "/trust/", "trust config id", id)
	if err != nil {
		return &Error{Op: op, Package: name, Err: err}
	}
	return c.do(ctx, call{op: op, pkg: name, method: http.MethodDelete, path: "/-/package/" + esc, otp: true}, nil)
}

// maxTokenPages bounds the token list walk against a registry that loops.
const maxTokenPages = 1000

// Tokens lists the account's access tokens, following urls.next across pages.
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	const op = "list tokens"
	base, err := c.base()
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	next := strings.TrimSuffix(base.String(), "/") + "/-/npm/v1/tokens"
	seen := map[string]bool{}
	var all []Token
	for page := 0; next != ""; page++ {
		if seen[next] || page >= maxTokenPages {
			return nil, &Error{Op: op, Err: fmt.Errorf("the token list does not end (page %d repeats %q)", page, next)}
		}
		seen[next] = true
		var body struct {
			Objects []Token `json:"objects"`
			URLs    struct {
				Next *string `json:"next"`
			} `json:"urls"`
		}
		if err := c.do(ctx, call{op: op, method: http.MethodGet, path: next}, &body); err != nil {
			return nil, err
		}
		all = append(all, body.Objects...)
		next = ""
		if body.URLs.Next != nil && *body.URLs.Next != "" {
			ref, err := base.Parse(*body.URLs.Next)
			if err != nil || !sameOrigin(base, ref) {
				return nil, &Error{Op: op, Err: fmt.Errorf("the next page %q is not on the registry's host; refusing to send credentials there", *body.URLs.Next)}
			}
			next = ref.String()
		}
	}
	return all, nil
}

// RevokeToken deletes the token with the full key from the list
// (DELETE /-/npm/v1/tokens/token/<key>); the registry requires 2FA.
func (c *Client) RevokeToken(ctx context.Context, key string) error {
	const op = "revoke token"
	k, err := escapeSegment("token key", key)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	return c.do(ctx, call{op: op, method: http.MethodDelete, path: "/-/npm/v1/tokens/token/" + k, otp: true}, nil)
}

// Whoami returns the user name the token belongs to (GET /-/whoami).
func (c *Client) Whoami(ctx context.Context) (string, error) {
	var v struct {
		Username string `json:"username"`
	}
	if err := c.do(ctx, call{op: "get current user", method: http.MethodGet, path: "/-/whoami"}, &v); err != nil {
		return "", err
	}
	return v.Username, nil
}

// Attestations fetches a version's attestations
// (GET /-/npm/v1/attestations/<pkg>@<version>).
func (c *Client) Attestations(ctx context.Context, name, version string) ([]Attestation, error) {
	const op = "get attestations"
	esc, err := escapeNameSegment(name, "@", "version", version)
	if err != nil {
		return nil, &Error{Op: op, Package: name, Err: err}
	}
	var body struct {
		Attestations []Attestation `json:"attestations"`
	}
	if err := c.do(ctx, call{op: op, pkg: name, method: http.MethodGet, path: "/-/npm/v1/attestations/" + esc}, &body); err != nil {
		return nil, err
	}
	return body.Attestations, nil
}

// Token matches returned by [Client.OwnToken].
const (
	// OwnByKey means the listed key is the SHA-512 of the client's token,
	// which identifies it exactly.
	OwnByKey = "key"
	// OwnByPrefix means the characters the registry displays of the token
	// begin the client's token: it is the client's token, or one that
	// starts the same way.
	OwnByPrefix = "prefix"
)

// minOwnPrefix is the fewest displayed characters that count as a prefix
// match; "npm_" alone says nothing.
const minOwnPrefix = 6

// OwnToken says whether t, as the registry's token list shows it, is the
// token the client authenticates with: [OwnByKey] when its key is the
// SHA-512 (hex) of the token, [OwnByPrefix] when the displayed first
// characters begin the client's token (what npm token revoke matches on),
// "" otherwise or when the client has no token.
func (c *Client) OwnToken(t Token) string {
	return c.Token.identifies(t)
}

func (s Secret) identifies(t Token) string {
	if s == "" {
		return ""
	}
	sum := sha512.Sum512([]byte(s))
	if strings.EqualFold(t.Key, hex.EncodeToString(sum[:])) {
		return OwnByKey
	}
	p := strings.TrimRight(t.Prefix, ".…*")
	if len(p) >= minOwnPrefix && strings.HasPrefix(string(s), p) {
		return OwnByPrefix
	}
	return ""
}

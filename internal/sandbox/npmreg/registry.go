package npmreg

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults used when the matching Options field is zero.
const (
	DefaultTokensPerPage    = 20
	DefaultOTPWindow        = 5 * time.Minute
	DefaultExchangeTokenTTL = 5 * time.Minute
	DefaultIDTokenTTL       = 10 * time.Minute
	DefaultRetryAfter       = time.Second
	DefaultWebLoginTTL      = 10 * time.Minute
)

// Values the registry writes into documents, compared exactly by verifiers.
const (
	// SLSAProvenanceV1 is the predicate type of a SLSA v1 provenance statement.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// PublishAttestationV01 is the predicate type of the registry's publish attestation.
	PublishAttestationV01 = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// GitHubHostedBuilder is the builder id of a GitHub-hosted runner.
	GitHubHostedBuilder = "https://github.com/actions/runner/github-hosted"
	// GitHubBuildType is the SLSA build type npm writes for GitHub Actions.
	GitHubBuildType = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	// OIDCUserName and OIDCUserEmail are the _npmUser of an OIDC publish.
	OIDCUserName  = "GitHub Actions"
	OIDCUserEmail = "npm-oidc-no-reply@github.com"
	// PermissionPublish and PermissionStagePublish are trust config permissions.
	PermissionPublish      = "createPackage"
	PermissionStagePublish = "createStagedPackage"
	// MessageOTPRequired is the error body of an EOTP answer.
	MessageOTPRequired = "This operation requires a one-time password."
	// MessageExchangeNotFound is the message of a failed OIDC exchange.
	MessageExchangeNotFound = "OIDC token exchange error - package not found"
)

// Package publishing-access settings (PackageSpec.MFA).
const (
	MFANone       = "none"       // tokens publish without 2FA
	MFAAutomation = "automation" // 2FA, or a token with bypass 2FA (the default)
	MFAPublish    = "publish"    // 2FA required and tokens disallowed; OIDC still works
)

// Options configures a Registry; the zero value means the defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Seed makes identifiers and generated token values deterministic.
	Seed uint64
	// Prefix is the path the registry is mounted under, such as "/npm"; "" is the root.
	// Serve it at the root of its own port for the npm CLI: npm builds the OIDC
	// exchange URL from the registry's origin, dropping any path.
	Prefix string
	// Host is the host name clients reach the registry by, for the audience
	// ("npm:" + Host) of ID tokens made by MintIDToken and checked by exchanges
	// made through Go; "" means 127.0.0.1. Exchanges over HTTP check the
	// audience against the host name of the request, as npm's registry does.
	Host string
	// TokensPerPage is the page size of GET /-/npm/v1/tokens.
	TokensPerPage int
	// OTPWindow is how long an OTP approved through the web flow may be reused.
	OTPWindow time.Duration
	// ExchangeTokenTTL is the lifetime of a publish token from the OIDC exchange.
	ExchangeTokenTTL time.Duration
	// IDTokenTTL is the lifetime of ID tokens made by MintIDToken.
	IDTokenTTL time.Duration
	// RetryAfter is what a pending doneUrl asks the poller to wait.
	RetryAfter time.Duration
}

// Registry is the emulator's state and its http.Handler. It is safe for
// concurrent use. Create it with New.
type Registry struct {
	opts    Options
	signKey []byte
	key     registryKey

	mu        sync.Mutex
	rng       *rand.Rand
	users     map[string]*user
	tokens    map[string]*token // by value
	packages  map[string]*pkgState
	grants    map[string]*grant // exchanged publish tokens by value
	sessions  map[string]*webSession
	approvals []approval
	requests  int
}

// New returns an empty registry.
func New(opts Options) *Registry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokensPerPage <= 0 {
		opts.TokensPerPage = DefaultTokensPerPage
	}
	if opts.OTPWindow <= 0 {
		opts.OTPWindow = DefaultOTPWindow
	}
	if opts.ExchangeTokenTTL <= 0 {
		opts.ExchangeTokenTTL = DefaultExchangeTokenTTL
	}
	if opts.IDTokenTTL <= 0 {
		opts.IDTokenTTL = DefaultIDTokenTTL
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	opts.Prefix = strings.TrimSuffix(opts.Prefix, "/")
	if opts.Prefix != "" && !strings.HasPrefix(opts.Prefix, "/") {
		opts.Prefix = "/" + opts.Prefix
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x6e706d72656721))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	return &Registry{
		opts:     opts,
		signKey:  key,
		key:      newRegistryKey(rng),
		rng:      rng,
		users:    map[string]*user{},
		tokens:   map[string]*token{},
		packages: map[string]*pkgState{},
		grants:   map[string]*grant{},
		sessions: map[string]*webSession{},
	}
}

func (r *Registry) now() time.Time { return r.opts.Now().UTC() }

// UserSpec describes an account to seed.
type UserSpec struct {
	// Name is the npm user name.
	Name string
	// Email is shown in maintainers and _npmUser.
	Email string
	// Password, when set, must accompany token creation.
	Password string
	// OTP is a fixed one-time password always accepted for this account (tests).
	OTP string
	// TOTPSecret is a base32 RFC 6238 secret; its current codes are accepted.
	TOTPSecret string
	// WebAuth makes EOTP answers carry authUrl and doneUrl (the web flow).
	WebAuth bool
}

type user struct {
	UserSpec
}

func (u *user) tfaEnabled() bool { return u.OTP != "" || u.TOTPSecret != "" || u.WebAuth }

// TokenSpec describes an access token to seed.
type TokenSpec struct {
	// User owns the token.
	User string
	// Value is the secret; "" generates one.
	Value string
	// Key is the token's identifier in lists and revocation; "" generates one.
	Key string
	// Name is the token's display name.
	Name string
	// Created defaults to the clock's now.
	Created time.Time
	// Expires is the expiry; zero means none.
	Expires time.Time
	// Readonly tokens cannot write.
	Readonly bool
	// Bypass2FA tokens publish without an OTP but cannot manage trust or tokens.
	Bypass2FA bool
	// CIDR restricts where the token may be used from (listed, not enforced).
	CIDR []string
	// Session marks a login session token, which the token list does not show.
	Session bool
}

// Token identifies a seeded token. Value is the secret.
type Token struct {
	Key   string
	Value string
}

type token struct {
	TokenSpec
	updated time.Time
}

func (t *token) expired(now time.Time) bool { return !t.Expires.IsZero() && !now.Before(t.Expires) }

// TokenInfo is what the registry knows about a token, without its value.
type TokenInfo struct {
	Key, User, Name     string
	Created, Expires    time.Time
	Readonly, Bypass2FA bool
	Session             bool
}

// AddUser adds an account. Adding a name twice is an error.
func (r *Registry) AddUser(s UserSpec) error {
	if s.Name == "" {
		return errors.New("user name is empty")
	}
	if s.TOTPSecret != "" {
		if _, err := decodeTOTPSecret(s.TOTPSecret); err != nil {
			return fmt.Errorf("user %q: %w", s.Name, err)
		}
	}
	if s.Email == "" {
		s.Email = s.Name + "@example.invalid"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.users[s.Name]; ok {
		return fmt.Errorf("user %q already exists", s.Name)
	}
	r.users[s.Name] = &user{UserSpec: s}
	return nil
}

// AddToken adds an access token for an existing user and returns its key and value.
func (r *Registry) AddToken(s TokenSpec) (Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.users[s.User]; !ok {
		return Token{}, fmt.Errorf("token owner %q does not exist", s.User)
	}
	if s.Value == "" {
		s.Value = r.newTokenValueLocked("npm_")
	}
	if _, ok := r.tokens[s.Value]; ok {
		return Token{}, errors.New("token value already in use")
	}
	if s.Key == "" {
		s.Key = r.newUUIDLocked()
	}
	for _, t := range r.tokens {
		if t.Key == s.Key {
			return Token{}, fmt.Errorf("token key %q already in use", s.Key)
		}
	}
	if s.Created.IsZero() {
		s.Created = r.now()
	}
	s.Created = s.Created.UTC()
	s.Expires = s.Expires.UTC()
	s.CIDR = slices.Clone(s.CIDR)
	r.tokens[s.Value] = &token{TokenSpec: s, updated: s.Created}
	return Token{Key: s.Key, Value: s.Value}, nil
}

// Tokens lists the tokens of a user ("" for every user), oldest first, without values.
func (r *Registry) Tokens(userName string) []TokenInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []TokenInfo
	for _, t := range r.sortedTokensLocked(userName, true) {
		out = append(out, TokenInfo{
			Key: t.Key, User: t.User, Name: t.Name, Created: t.Created, Expires: t.Expires,
			Readonly: t.Readonly, Bypass2FA: t.Bypass2FA, Session: t.Session,
		})
	}
	return out
}

func (r *Registry) sortedTokensLocked(userName string, withSessions bool) []*token {
	var ts []*token
	for _, t := range r.tokens {
		if (userName == "" || t.User == userName) && (withSessions || !t.Session) {
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b *token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return ts
}

// RevokeToken deletes a token by key, as DELETE /-/npm/v1/tokens/token/<key> does.
func (r *Registry) RevokeToken(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revokeLocked(key)
}

func (r *Registry) revokeLocked(key string) bool {
	for v, t := range r.tokens {
		if t.Key == key {
			delete(r.tokens, v)
			return true
		}
	}
	return false
}

// Requests reports how many HTTP requests the registry has served.
func (r *Registry) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (r *Registry) newTokenValueLocked(prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for range 36 {
		b.WriteByte(base62[r.rng.IntN(len(base62))])
	}
	return b.String()
}

func (r *Registry) newUUIDLocked() string {
	a, b := r.rng.Uint64(), r.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		uint32(a>>32), uint16(a>>16), uint16(a)&0x0fff, (uint16(b>>48)&0x3fff)|0x8000, b&0xffffffffffff)
}

func (r *Registry) newOTPLocked() string {
	return fmt.Sprintf("%08d", r.rng.IntN(100000000))
}

// TOTP returns the RFC 6238 code (SHA-1, 30 s, 6 digits) for a base32 secret at t.
func TOTP(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	return totpAt(key, t.Unix()/30), nil
}

func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) == 0 {
		return nil, errors.New("totp secret is not valid base32")
	}
	return key, nil
}

func totpAt(key []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1000000)
}

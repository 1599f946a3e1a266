package npmreg

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Error is a refusal from the registry: the HTTP status, npm's error code
// (E401, E403, E404, EOTP, E409, E422, ENEEDAUTH…) and the message it sends.
type Error struct {
	// Status is the HTTP status; 0 for failures npm detects before any request.
	Status int
	// Code is npm's error code.
	Code string
	// Message is the text of the answer body.
	Message string
	// AuthURL and DoneURL are set on EOTP answers for accounts in web-auth mode.
	AuthURL, DoneURL string

	messageKey bool   // the body says "message" instead of "error"
	notice     string // npm-notice header
	otp        bool   // www-authenticate: OTP
}

// Error gives the status, npm code and message.
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("registry answered %d %s: %s", e.Status, e.Code, e.Message)
}

func errorf(status int, format string, a ...any) *Error {
	return &Error{Status: status, Code: fmt.Sprintf("E%d", status), Message: fmt.Sprintf(format, a...)}
}

var errNotFound = &Error{Status: 404, Code: "E404", Message: "Not found"}

// reqCtx is what a handler needs to know about the request.
type reqCtx struct {
	base     string // absolute URL of the registry root, prefix included
	prefix   string // the path the registry is served under, "" for the root
	hostname string // the request's host without port: the ID tokens' audience is "npm:"+hostname
	ip       string
	bearer   string
	otp      string
}

func (r *Registry) reqCtxFor(req *http.Request, prefix string) reqCtx {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	ip := req.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i > 0 {
		ip = ip[:i]
	}
	bearer := ""
	if h := req.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		bearer = strings.TrimSpace(h[7:])
	}
	hostname := req.Host
	if h, _, err := net.SplitHostPort(hostname); err == nil {
		hostname = h
	}
	return reqCtx{
		base:     scheme + "://" + req.Host + prefix,
		prefix:   prefix,
		hostname: strings.Trim(hostname, "[]"),
		ip:       ip,
		bearer:   bearer,
		otp:      strings.TrimSpace(req.Header.Get("npm-otp")),
	}
}

// principal is who a bearer token speaks for: a user's token, or an OIDC grant.
type principal struct {
	user  *user
	tok   *token
	grant *grant
}

var errBadToken = &Error{Status: 401, Code: "E401", Message: "Unable to authenticate, your authentication token seems to be invalid."}

// authLocked resolves the bearer token. No bearer is (nil, nil).
func (r *Registry) authLocked(rc reqCtx) (*principal, *Error) {
	if rc.bearer == "" {
		return nil, nil
	}
	now := r.now()
	if t, ok := r.tokens[rc.bearer]; ok && !t.expired(now) {
		if u, ok := r.users[t.User]; ok {
			return &principal{user: u, tok: t}, nil
		}
	}
	if g, ok := r.grants[rc.bearer]; ok {
		if now.Before(g.expires) {
			return &principal{grant: g}, nil
		}
		delete(r.grants, rc.bearer)
	}
	return nil, errBadToken
}

// userLocked requires a user's token (not an OIDC grant).
func (r *Registry) userLocked(rc reqCtx) (*principal, *Error) {
	p, e := r.authLocked(rc)
	if e != nil {
		return nil, e
	}
	if p == nil || p.user == nil {
		return nil, &Error{Status: 401, Code: "E401", Message: "You must be logged in to do this. Log in with a token that is not an OIDC publish token."}
	}
	return p, nil
}

type tfaMode int

const (
	tfaWrite  tfaMode = iota // package writes: bypass-2FA tokens pass, accounts without 2FA pass
	tfaManage                // token management: bypass-2FA tokens refused
	tfaTrust                 // trust configs: bypass refused and account 2FA required
)

// check2FALocked applies npm's two-factor rules for the mode.
func (r *Registry) check2FALocked(p *principal, rc reqCtx, mode tfaMode) *Error {
	if p.tok.Bypass2FA {
		if mode == tfaWrite {
			return nil
		}
		return errorf(403, "Granular access tokens with bypass 2FA cannot do this; use an interactive login with two-factor authentication.")
	}
	if !p.user.tfaEnabled() {
		if mode == tfaTrust {
			return errorf(403, "Two-factor authentication must be enabled on the account to manage trusted publishers.")
		}
		return nil
	}
	if rc.otp != "" && r.validOTPLocked(p.user, rc.otp, rc.ip) {
		return nil
	}
	return r.eotpLocked(p.user, rc)
}

func (r *Registry) eotpLocked(u *user, rc reqCtx) *Error {
	e := &Error{Status: 401, Code: "EOTP", Message: MessageOTPRequired, otp: true}
	if u.WebAuth {
		id := r.newUUIDLocked()
		r.sessions[id] = &webSession{user: u.Name, ip: rc.ip, created: r.now()}
		e.AuthURL = rc.base + "/-/sandbox/auth/" + id
		e.DoneURL = rc.base + "/-/v1/done?authId=" + id
	}
	return e
}

type webSession struct {
	user     string
	ip       string
	created  time.Time
	approved bool
	otp      string
}

type approval struct {
	user  string
	ip    string
	otp   string
	until time.Time
}

func (r *Registry) validOTPLocked(u *user, otp, ip string) bool {
	if u.OTP != "" && otp == u.OTP {
		return true
	}
	now := r.now()
	if u.TOTPSecret != "" {
		key, err := decodeTOTPSecret(u.TOTPSecret)
		if err == nil {
			c := now.Unix() / 30
			for _, d := range []int64{-1, 0, 1} {
				if totpAt(key, c+d) == otp {
					return true
				}
			}
		}
	}
	r.approvals = slices.DeleteFunc(r.approvals, func(a approval) bool { return !now.Before(a.until) })
	for _, a := range r.approvals {
		if a.user == u.Name && a.otp == otp && (a.ip == "" || ip == "" || a.ip == ip) {
			return true
		}
	}
	return false
}

// PendingApprovals lists the ids of web logins waiting for approval, in no
// particular order.
func (r *Registry) PendingApprovals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, s := range r.sessions {
		if !s.approved {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Approve approves the web login with the id (the last element of authUrl),
// as the user would in the browser with "skip 2FA for the next 5 minutes"
// ticked: its doneUrl then answers with an OTP accepted for OTPWindow.
func (r *Registry) Approve(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.approveLocked(id)
}

// ApproveAuthURL approves the web login an authUrl points at.
func (r *Registry) ApproveAuthURL(authURL string) error {
	i := strings.LastIndexByte(authURL, '/')
	return r.Approve(authURL[i+1:])
}

func (r *Registry) approveLocked(id string) error {
	s, ok := r.sessions[id]
	now := r.now()
	if !ok || (!s.approved && !now.Before(s.created.Add(DefaultWebLoginTTL))) {
		return fmt.Errorf("no pending web login %q", id)
	}
	if s.approved {
		return nil
	}
	s.approved = true
	s.otp = r.newOTPLocked()
	r.approvals = append(r.approvals, approval{user: s.user, ip: s.ip, otp: s.otp, until: now.Add(r.opts.OTPWindow)})
	return nil
}

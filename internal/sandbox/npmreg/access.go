package npmreg

import "strings"

// accessListLocked answers GET /-/org/ORG/package and /-/user/USER/package
// (npm access list packages): the packages of the scope @ORG, or those the
// user maintains, that the caller can see, with "read-write" for the ones
// the caller maintains and "read-only" for the others. An organisation with
// no package and an unknown user are 404, which makes npm try the user.
func (r *Registry) accessListLocked(rc reqCtx, kind, owner string) response {
	pr, e := r.authLocked(rc)
	if e != nil {
		return errResp(e)
	}
	caller := ""
	if pr != nil && pr.user != nil {
		caller = pr.user.Name
	}
	if kind == "user" {
		if _, ok := r.users[owner]; !ok {
			return errResp(errNotFound)
		}
	}
	out := map[string]string{}
	found := false
	for name, p := range r.packages {
		switch kind {
		case "org":
			if !strings.HasPrefix(name, "@"+owner+"/") {
				continue
			}
		default:
			if !p.isMaintainer(owner) {
				continue
			}
		}
		found = true
		switch {
		case caller != "" && p.isMaintainer(caller):
			out[name] = "read-write"
		case !p.private:
			out[name] = "read-only"
		}
	}
	if kind == "org" && !found {
		return errResp(errNotFound)
	}
	return jsonResp(200, out)
}

// Private reports whether a package is private (visible to its maintainers
// only); ok is false when the package does not exist.
func (r *Registry) Private(pkgName string) (private, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok {
		return false, false
	}
	return p.private, true
}

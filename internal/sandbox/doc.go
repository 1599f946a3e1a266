// Package sandbox starts a loopback world for rehearsing campaigns: a GitHub
// REST emulator ([ghapi]) and a smart-HTTP git server ([githttp]) that share
// one set of bare repositories and one set of tokens, on one loopback
// listener or two. Real clients (go-github, go-git, git) use it unchanged.
//
// The npm registry emulator (package npmreg) will join the World as another
// field of [Options].
package sandbox

// Package checkout reads the files detection needs from a repository
// checkout on disk into a rewrite.Snapshot, without following anything
// outside the repository root and without reading oversized files.
package checkout

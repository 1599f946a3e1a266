// Package config holds cutover's configuration: the TOML schema, its defaults,
// strict decoding (an unknown key is an error that names the file, the line and
// the nearest valid key), environment overrides and validation.
//
// Adding a key is a one-line change: add a field with a `toml` tag to one of
// the section structs in config.go, give it a default in Default if its zero
// value is not the default, and document it in config.example.toml (a test
// fails until the example and the struct agree).
//
// The package also resolves the npm registry URL from the config, the
// environment or npm's own configuration; see ResolveRegistry.
package config

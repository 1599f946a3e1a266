package npmreg

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"math/rand/v2"
)

// registryKey is the registry's ECDSA P-256 signing key, the kind npm's
// registry signs dist.signatures with and publishes at /-/npm/v1/keys.
type registryKey struct {
	priv  *ecdsa.PrivateKey
	der   []byte // SubjectPublicKeyInfo
	keyID string // "SHA256:" + base64 of the DER's SHA-256, as npm names its keys
}

// newRegistryKey derives the signing key from the registry's seeded
// generator, so the same seed gives the same key.
func newRegistryKey(rng *rand.Rand) registryKey {
	for {
		raw := make([]byte, 32)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
		if err != nil {
			continue // zero or not below the order: draw again
		}
		der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			panic("npmreg: marshal a P-256 public key: " + err.Error())
		}
		sum := sha256.Sum256(der)
		return registryKey{priv: priv, der: der, keyID: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])}
	}
}

// sign returns the base64 ASN.1 ECDSA signature over SHA-256 of msg. The
// signature is deterministic (RFC 6979).
func (k registryKey) sign(msg string) string {
	h := sha256.Sum256([]byte(msg))
	sig, err := k.priv.Sign(nil, h[:], crypto.SHA256)
	if err != nil {
		panic("npmreg: ECDSA signing failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// signatureMessage is what a registry signature covers, as the npm CLI
// (pacote) verifies it: "<name>@<version>:<integrity>".
func signatureMessage(pkgName, version, integrity string) string {
	return pkgName + "@" + version + ":" + integrity
}

// KeysJSON is the answer of GET /-/npm/v1/keys.
func (r *Registry) keysJSON() map[string]any {
	return map[string]any{"keys": []map[string]any{{
		"expires": nil,
		"keyid":   r.key.keyID,
		"keytype": "ecdsa-sha2-nistp256",
		"scheme":  "ecdsa-sha2-nistp256",
		"key":     base64.StdEncoding.EncodeToString(r.key.der),
	}}}
}

// SigningKey returns the registry's public signing key (PKIX DER) and its
// key id, as /-/npm/v1/keys serves them.
func (r *Registry) SigningKey() (der []byte, keyID string) {
	return append([]byte(nil), r.key.der...), r.key.keyID
}
